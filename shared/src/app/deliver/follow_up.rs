//! What follows one message's attempt — done, re-enqueued, dead-lettered, held in place or
//! left for redelivery — and the batch's follow-ups carried out together at its end.

use std::time::Duration;

use super::notify::notify;
use super::{BatchReport, Worker};
use crate::domain::delivery::{DeadLetter, Progress};
use crate::domain::operational::Notice;
use crate::ports::{Enqueue, Hold, IdempotencyKey};

/// Follow-up work for one message; it is acknowledged only once this has been done.
#[derive(Debug)]
pub(crate) enum FollowUp {
    Done,
    Enqueue {
        enqueue: Enqueue,
        /// The delivery claim to give up if re-enqueueing fails, so the redelivered
        /// message may claim it again at once.
        claim: Option<(IdempotencyKey, u64)>,
    },
    DeadLetter {
        letter: DeadLetter,
        /// The delivery claim to give up if dead-lettering fails, as for `Enqueue`.
        claim: Option<(IdempotencyKey, u64)>,
        /// For an ordered job: what that claim keeps instead of being released.
        keep: Option<Progress>,
    },
    /// An ordered job waits in place: its message is hidden for `delay` (zero: visible
    /// again at once, behind its line's head) and not acknowledged.
    Hold {
        receipt_handle: String,
        delay: Duration,
    },
    /// Infrastructure trouble: leave the message for the queue to redeliver.
    Redeliver,
    /// The job travels in a message another job's `Enqueue` sends (a batch's, §3.15): done
    /// once the batch's re-enqueues are taken, left on the queue (its claim released) if
    /// they are not.
    Along {
        claim: Option<(IdempotencyKey, u64)>,
    },
}

/// Sends every re-enqueue in one call and every dead letter in another; the messages
/// behind a failed call stay on the queue.
pub(super) async fn flush(
    worker: &Worker,
    follow_ups: Vec<(String, FollowUp)>,
    report: &mut BatchReport,
) {
    let mut enqueues = Vec::new();
    let mut letters = Vec::new();
    let mut holds = Vec::new();
    let mut along = Vec::new();
    for (message_id, follow_up) in follow_ups {
        match follow_up {
            FollowUp::Done => {}
            FollowUp::Along { claim } => along.push((message_id, claim)),
            FollowUp::Redeliver => report.failed.push(message_id),
            FollowUp::Hold {
                receipt_handle,
                delay,
            } => {
                // Never acknowledged: it waits on its queue whether the hold is taken or not.
                report.failed.push(message_id);
                holds.push(Hold {
                    receipt_handle,
                    delay,
                });
            }
            FollowUp::Enqueue { enqueue, claim } => enqueues.push((message_id, enqueue, claim)),
            FollowUp::DeadLetter {
                letter,
                claim,
                keep,
            } => letters.push((message_id, letter, claim, keep)),
        }
    }

    // One call for every re-enqueue, so jobs going along with another's message share its
    // fate: taken together or left together.
    let carrying = !enqueues.is_empty();
    let enqueued = !carrying || {
        let jobs = enqueues.iter().map(|(_, e, _)| e.clone()).collect();
        match worker.queue.enqueue(jobs).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "re-enqueueing failed; the messages stay queued");
                false
            }
        }
    };
    if !enqueued {
        for (message_id, _, claim) in enqueues {
            release(worker, claim).await;
            report.failed.push(message_id);
        }
    }
    // A job going along with no re-enqueue to go in would be lost if acknowledged; it
    // cannot happen, and if it did its message stays.
    if !enqueued || !carrying {
        for (message_id, claim) in along {
            release(worker, claim).await;
            report.failed.push(message_id);
        }
    }
    if !holds.is_empty() {
        let count = holds.len();
        if let Err(e) = worker.holds.hold(holds).await {
            // The messages come back after the queue's visibility timeout instead, still
            // in their lines' order.
            tracing::warn!(error = %e, count, "holding ordered messages failed");
        }
    }
    if !letters.is_empty() {
        let count = u32::try_from(letters.len()).unwrap_or(u32::MAX);
        let batch = letters.iter().map(|(_, l, _, _)| l.clone()).collect();
        if let Err(e) = worker.dead_letters.dead_letter(batch).await {
            tracing::warn!(error = %e, count, "dead-lettering failed; the messages stay queued");
            for (message_id, _, claim, keep) in letters {
                match (claim, keep) {
                    (Some((key, token)), Some(progress)) => {
                        let _ = worker.idempotency.pause(&key, token, &progress).await;
                    }
                    (claim, _) => release(worker, claim).await,
                }
                report.failed.push(message_id);
            }
        } else {
            report.totals.dead_lettered += count;
            let notices: Vec<Notice<'_>> = letters
                .iter()
                .map(|(_, letter, _, _)| Notice::Exhausted { letter })
                .collect();
            notify(worker, &notices).await;
        }
    }
}

/// Gives up the claim behind a message left on the queue, so its redelivery may claim the
/// delivery again at once. Best effort: a claim that stays lapses after its lease.
async fn release(worker: &Worker, claim: Option<(IdempotencyKey, u64)>) {
    if let Some((key, token)) = claim {
        let _ = worker.idempotency.release(&key, token).await;
    }
}
