//! One job's attempt: claim the delivery, send it signed, and decide what follows. An
//! ordered job's attempts live in its claim (its FIFO message never changes), so it
//! resumes from there, and a retry pauses the claim with them and holds the message.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{FollowUp, Taken, Worker};
use crate::domain::delivery::{later, schedule, AttemptRecord, DeadLetter, DeliveryJob};
use crate::domain::delivery_log::{LogEntry, LogStatus, Subject};
use crate::domain::endpoint::Endpoint;
use crate::domain::order::hold_for;
use crate::domain::outcome::{classify, decide, Decision};
use crate::domain::recovery::cuts_short;
use crate::domain::retry::Jitter;
use crate::domain::webhook;
use crate::ports::{Claim, ClaimOutcome, Enqueue, IdempotencyKey, OutgoingRequest};

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

pub(super) async fn attempt(
    worker: &Worker,
    endpoint: &Endpoint,
    taken: Taken,
    recovered_at: Option<DateTime<Utc>>,
) -> Attempted {
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
            return Attempted::Skipped(message_id);
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
            return Attempted::Waiting(message_id, Box::new(follow_up));
        }
        Ok(ClaimOutcome::InProgress { .. }) => {
            // Not acknowledged: should that worker fail to leave a follow-up behind (its
            // re-enqueue refused, its process gone), this message is what carries the
            // delivery on. It comes back after its visibility timeout and finds the
            // delivery completed, or claims it.
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "being delivered by another worker; the copy stays queued");
            return Attempted::Failed(message_id);
        }
        Err(e) => {
            tracing::warn!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, error = %e, "delivery claim unavailable; the job stays queued");
            return Attempted::Failed(message_id);
        }
    };
    let recovered = cuts_short(recovered_at, job.history.last().map(|a| a.at), now);
    if let Some(due) = job.not_before.filter(|due| *due > now && !recovered) {
        // Only an ordered job gets here (an unordered one hops before it is claimed): its
        // wait is longer than one hold, so it is held again with its attempts kept, unless
        // its endpoint was recovered since the wait was decided.
        let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
        let follow_up = hold(worker, &key, claim.token, job, receipt_handle, wait).await;
        return Attempted::Waiting(message_id, Box::new(follow_up));
    }

    let number = job.attempts + 1;
    let body = job.event.to_body();
    // The `deliver` span this runs in (line.rs): the receiver's parent is this attempt.
    let span = tracing::Span::current();
    // As i64: exporters send u64 fields as text.
    span.record("attempt", i64::from(number));
    let trace = job.trace.as_ref().map(|trace| {
        let random = worker.entropy.u128() as u64;
        trace.child(crate::telemetry::span_id(&span, random))
    });
    let request = OutgoingRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: webhook::headers(endpoint, &job, number, &body, now, trace.as_ref()),
        body,
        timeout: endpoint.timeout(),
    };
    let sent = worker.sender.send(request).await;
    let finished = worker.clock.now();
    let verdict = classify(&sent.result, finished);
    let record = AttemptRecord::from_result(number, &sent.result, sent.latency, now);
    let jitter = Jitter::from_unit(worker.entropy.unit());
    let decision = decide(verdict, &endpoint.retry, number, jitter);
    let logged_as = match decision {
        Decision::Delivered => LogStatus::Delivered,
        Decision::RetryIn(_) => LogStatus::Retrying,
        Decision::GiveUp(_) => LogStatus::Failed,
    };
    let entry = Box::new(LogEntry::of(logged(&job), &record, logged_as));
    let next = job.after_attempt(record);
    let record = next.history.last();
    if let Some(status) = record.and_then(|r| r.status) {
        span.record("status", i64::from(status));
    }
    // Identifiers, status and timing only: never bodies, headers or signatures. Every
    // attempt that did not deliver is logged; of those that did, a sample (by delivery, so
    // a sampled delivery's lines are all there), the rest at debug: each line is billed, and
    // the delivery log keeps every attempt anyway.
    macro_rules! attempt_finished {
        ($level:expr) => {
            tracing::event!(
                $level,
                event_id = %next.event.id,
                delivery_id = %next.delivery_id,
                endpoint_id = %next.endpoint_id,
                attempt = number,
                status = record.and_then(|r| r.status),
                error = record.and_then(|r| r.error.as_deref()),
                latency_ms = record.map(|r| r.latency_ms),
                outcome = outcome_name(&decision),
                "attempt finished"
            )
        };
    }
    let delivered = matches!(decision, Decision::Delivered);
    if !delivered || next.delivery_id.sample_point() < worker.settings.success_log_sample {
        attempt_finished!(tracing::Level::INFO);
    } else {
        attempt_finished!(tracing::Level::DEBUG);
    }
    let follow_up = match decision {
        Decision::Delivered => {
            // Delivered either way; a lost completion only weakens duplicate suppression.
            let _ = worker
                .idempotency
                .complete(&key, claim.token, &next.history, claim.expires_at)
                .await;
            FollowUp::Done
        }
        Decision::RetryIn(delay) if next.order_key.is_some() => {
            hold(worker, &key, claim.token, next, receipt_handle, delay).await
        }
        Decision::RetryIn(delay) => {
            let (delay, not_before) = schedule(later(finished, delay), finished);
            let mut job = next;
            job.not_before = not_before;
            FollowUp::Enqueue {
                enqueue: Enqueue { job, delay },
                claim: Some((key, claim.token)),
            }
        }
        Decision::GiveUp(reason) => FollowUp::DeadLetter {
            // Should the dead letter not go, an ordered job's claim keeps its attempts
            // before this one, so its message (unchanged on its queue) makes this attempt
            // once more when it comes back, as an unordered job's message would.
            keep: job.order_key.is_some().then(|| job.progress()),
            letter: DeadLetter { reason, job: next },
            claim: Some((key, claim.token)),
        },
    };
    Attempted::Sent {
        message_id,
        success: verdict.is_success(),
        latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
        entry,
        follow_up: Box::new(follow_up),
    }
}

/// What the log says an entry of `job` is about.
fn logged(job: &DeliveryJob) -> Subject<'_> {
    Subject {
        delivery_id: &job.delivery_id,
        event_id: &job.event.id,
        event_type: &job.event.event_type,
        endpoint_id: &job.endpoint_id,
        subject: job.event.subject.as_deref(),
        tenant_id: job.event.tenant_id.as_deref(),
    }
}

/// An ordered job waits `wait` in place: its attempts are kept with its claim (which is
/// let go, so the next receive may claim it at once), and its message is held for the
/// wait, or for the longest hold with the rest remembered as `not_before`.
async fn hold(
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

fn outcome_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Delivered => "delivered",
        Decision::RetryIn(_) => "retry",
        Decision::GiveUp(reason) => reason.as_str(),
    }
}
