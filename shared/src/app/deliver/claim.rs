//! A job taken up for an attempt: its delivery claimed (and resumed from the attempts the
//! claim kept, for an ordered job) or what became of it instead; and an ordered job held
//! in place with its attempts kept. A lone attempt's and a batch's alike.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::attempted::Attempted;
use super::{FollowUp, Taken, Worker};
use crate::domain::delivery::{later, DeliveryJob};
use crate::domain::endpoint::Endpoint;
use crate::domain::order::hold_for;
use crate::domain::recovery::cuts_short;
use crate::ports::{Claim, ClaimOutcome, IdempotencyKey};

/// A job whose delivery this worker has claimed, due now: ready to be sent.
pub(super) struct Ready {
    pub(super) message_id: String,
    pub(super) receipt_handle: String,
    /// The job as far as its claim says it got.
    pub(super) job: DeliveryJob,
    pub(super) key: IdempotencyKey,
    pub(super) claim: Claim,
}

/// Claims a job's delivery and resumes it from its claim; `Err` says what became of a job
/// that is not to be sent now (delivered already, claimed elsewhere, not due).
pub(super) async fn take_up(
    worker: &Worker,
    endpoint: &Endpoint,
    taken: Taken,
    recovered_at: Option<DateTime<Utc>>,
) -> Result<Ready, Attempted> {
    let Taken {
        message_id,
        receipt_handle,
        job,
    } = taken;
    let now = worker.clock.now();
    let key = IdempotencyKey::delivery(&job.delivery_id);
    let claim = Claim {
        token: job.claim_token(),
        now,
        lease_until: later(now, endpoint.timeout() + worker.settings.claim_margin),
        expires_at: later(now, worker.settings.delivered_ttl),
    };
    let job = match worker.idempotency.claim(&key, &claim).await {
        Ok(ClaimOutcome::Claimed { progress }) => match progress {
            Some(progress) => job.resumed(progress),
            None => job,
        },
        Ok(ClaimOutcome::Completed { .. }) => {
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "already delivered; skipped");
            return Err(Attempted::Skipped(message_id));
        }
        Ok(ClaimOutcome::InProgress { lease_until }) if job.order_key.is_some() => {
            // Its line must not go on until that attempt's outcome is known: wait for
            // the lease, then find the delivery completed, paused or lapsed.
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "being delivered by another worker; its line waits");
            let wait = (lease_until - now).to_std().unwrap_or(Duration::ZERO);
            let follow_up = FollowUp::Hold {
                receipt_handle,
                delay: wait,
            };
            return Err(Attempted::Waiting(message_id, Box::new(follow_up)));
        }
        Ok(ClaimOutcome::InProgress { .. }) => {
            // Not acknowledged: should that worker fail to leave a follow-up behind (its
            // re-enqueue refused, its process gone), this message is what carries the
            // delivery on. It comes back after its visibility timeout and finds the
            // delivery completed, or claims it.
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "being delivered by another worker; the copy stays queued");
            return Err(Attempted::Failed(message_id));
        }
        Err(e) => {
            tracing::warn!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, error = %e, "delivery claim unavailable; the job stays queued");
            return Err(Attempted::Failed(message_id));
        }
    };
    let recovered = cuts_short(recovered_at, job.history.last().map(|a| a.at), now);
    if let Some(due) = job.not_before.filter(|due| *due > now && !recovered) {
        // Only an ordered job gets here (an unordered one hops before it is claimed): its
        // wait is longer than one hold, so it is held again with its attempts kept, unless
        // its endpoint was recovered since the wait was decided.
        let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
        let follow_up = hold(worker, &key, claim.token, job, receipt_handle, wait).await;
        return Err(Attempted::Waiting(message_id, Box::new(follow_up)));
    }
    Ok(Ready {
        message_id,
        receipt_handle,
        job,
        key,
        claim,
    })
}

/// An ordered job waits `wait` in place: its attempts are kept with its claim (which is
/// let go, so the next receive may claim it at once), and its message is held for the
/// wait, or for the longest hold with the rest remembered as `not_before`.
pub(super) async fn hold(
    worker: &Worker,
    key: &IdempotencyKey,
    token: u64,
    mut job: DeliveryJob,
    receipt_handle: String,
    wait: Duration,
) -> FollowUp {
    let (delay, not_before) = hold_for(wait, worker.clock.now());
    job.not_before = not_before;
    if let Err(e) = worker.idempotency.pause(key, token, &job.progress()).await {
        // The attempt happened; losing its record only means one attempt more, later.
        tracing::warn!(delivery_id = %job.delivery_id, error = %e, "attempts of a held delivery not kept");
    }
    FollowUp::Hold {
        receipt_handle,
        delay,
    }
}
