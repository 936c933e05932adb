//! What an attempt leaves behind for each job it carried: its record, its entry in the
//! delivery log, its log line, and what follows for its message — done, re-enqueued, held
//! with its attempts kept, or dead-lettered. A lone attempt's and a batch's alike.

use chrono::{DateTime, Utc};

use super::claim::{hold, Ready};
use super::{FollowUp, Worker};
use crate::domain::delivery::{later, schedule, AttemptRecord, DeadLetter, DeliveryJob};
use crate::domain::delivery_log::{LogEntry, LogStatus, Subject};
use crate::domain::outcome::Decision;
use crate::ports::{Enqueue, SendReport as Sent};

/// Records attempt number `attempts + 1` of a sent job, made at `now`, and carries out
/// `decision`: the log's entry and what follows for its message.
pub(super) async fn conclude(
    worker: &Worker,
    ready: Ready,
    sent: &Sent,
    now: DateTime<Utc>,
    decision: Decision,
) -> (Box<LogEntry>, FollowUp) {
    let Ready {
        receipt_handle,
        job,
        key,
        claim,
        ..
    } = ready;
    let number = job.attempts + 1;
    let record = AttemptRecord::from_result(number, &sent.result, sent.latency, now);
    let logged_as = match decision {
        Decision::Delivered => LogStatus::Delivered,
        Decision::RetryIn(_) => LogStatus::Retrying,
        Decision::GiveUp(_) => LogStatus::Failed,
    };
    let entry = Box::new(LogEntry::of(logged(&job), &record, logged_as));
    let next = job.after_attempt(record);
    let record = next.history.last();
    if let Some(status) = record.and_then(|r| r.status) {
        tracing::Span::current().record("status", i64::from(status));
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
    let finished = worker.clock.now();
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
    (entry, follow_up)
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

fn outcome_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Delivered => "delivered",
        Decision::RetryIn(_) => "retry",
        Decision::GiveUp(reason) => reason.as_str(),
    }
}
