//! One job's attempt: claim the delivery, send it signed, and decide what follows. An
//! ordered job's attempts live in its claim (its FIFO message never changes), so it
//! resumes from there, and a retry pauses the claim with them and holds the message. The
//! claim (`take_up`) and the outcome (`conclude`) are the batch's too (batch.rs).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::conclusion::conclude;
use super::transform::{shape, with_added, Shapen};
use super::{FollowUp, Taken, Worker};
use crate::domain::delivery::{later, DeliveryJob};
use crate::domain::delivery_log::LogEntry;
use crate::domain::endpoint::Endpoint;
use crate::domain::order::hold_for;
use crate::domain::outcome::{classify, decide};
use crate::domain::recovery::cuts_short;
use crate::domain::retry::Jitter;
use crate::domain::trace::TraceParent;
use crate::domain::webhook;
use crate::ports::{Claim, ClaimOutcome, IdempotencyKey, OutgoingRequest};

pub(super) enum Attempted {
    /// Already delivered.
    Skipped(String),
    /// The claim could not be taken (another worker holds it) or read: the message stays
    /// queued.
    Failed(String),
    /// An ordered job left waiting in place, nothing sent: its next attempt is not due,
    /// another worker holds its claim, or an earlier job of its line is unfinished.
    Waiting(String, Box<FollowUp>),
    Sent {
        message_id: String,
        success: bool,
        /// Whether this job stands for its POST in the circuit's results and the latency
        /// figures: every lone job, one job of a batch.
        counted: bool,
        latency_ms: u64,
        /// The attempt as the delivery log keeps it.
        entry: Box<LogEntry>,
        // Boxed: a follow-up carries a whole job, the other variants a message id.
        follow_up: Box<FollowUp>,
    },
}

impl Attempted {
    /// Whether the next job of an ordered line may go now: this one was delivered (or
    /// found delivered). Anything else — a retry, a give-up whose dead letter is not sent
    /// yet, trouble — stops the line for this batch.
    pub(super) fn lets_line_go_on(&self) -> bool {
        match self {
            Self::Skipped(_) => true,
            Self::Sent { follow_up, .. } => matches!(**follow_up, FollowUp::Done),
            Self::Failed(_) | Self::Waiting(..) => false,
        }
    }
}

/// A job whose delivery this worker has claimed, due now: ready to be sent.
pub(super) struct Ready {
    pub(super) message_id: String,
    pub(super) receipt_handle: String,
    /// The job as far as its claim says it got.
    pub(super) job: DeliveryJob,
    pub(super) key: IdempotencyKey,
    pub(super) claim: Claim,
}

/// Sends one job on its own: its claim, its POST, its outcome.
pub(super) async fn attempt(
    worker: &Worker,
    endpoint: &Endpoint,
    taken: Taken,
    recovered_at: Option<DateTime<Utc>>,
) -> Attempted {
    let ready = match take_up(worker, endpoint, taken, recovered_at).await {
        Ok(ready) => ready,
        Err(done) => return done,
    };
    let Shapen {
        ready,
        body,
        headers: added,
    } = match shape(worker, endpoint, ready).await {
        Ok(shapen) => shapen,
        Err(done) => return done,
    };
    let now = worker.clock.now();
    let number = ready.job.attempts + 1;
    // The `deliver` span this runs in (line.rs): the receiver's parent is this attempt.
    let span = tracing::Span::current();
    // As i64: exporters send u64 fields as text.
    span.record("attempt", i64::from(number));
    let trace = child_trace(worker, &span, ready.job.trace.as_ref());
    let signed = webhook::Signed {
        id: ready.job.event.id.as_str(),
        event_type: ready.job.event.event_type.as_str(),
    };
    let request = OutgoingRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: with_added(
            added,
            webhook::headers(endpoint, signed, number, &body, now, trace.as_ref()),
        ),
        body,
        timeout: endpoint.timeout(),
    };
    let sent = worker.sender.send(request).await;
    let finished = worker.clock.now();
    let verdict = classify(&sent.result, finished);
    let jitter = Jitter::from_unit(worker.entropy.unit());
    let decision = decide(verdict, &endpoint.retry, number, jitter);
    let message_id = ready.message_id.clone();
    let (entry, follow_up) = conclude(worker, ready, &sent, now, decision).await;
    Attempted::Sent {
        message_id,
        success: verdict.is_success(),
        counted: true,
        latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
        entry,
        follow_up: Box::new(follow_up),
    }
}

/// The attempt's child of a job's trace context, as the receiver's parent.
pub(super) fn child_trace(
    worker: &Worker,
    span: &tracing::Span,
    trace: Option<&TraceParent>,
) -> Option<TraceParent> {
    trace.map(|trace| {
        let random = worker.entropy.u128() as u64;
        trace.child(crate::telemetry::span_id(span, random))
    })
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
