//! The worker's use case: deliver a batch of jobs from the queue. Per job: not-before,
//! circuit, rate, send, outcome, then ack, re-enqueue with a delay, or dead-letter; an
//! ordered job instead waits in place (its message held) and holds back the rest of its
//! line. Otherwise only infrastructure errors leave a message unacknowledged, so the queue
//! redelivers it.

mod attempt;
mod group;
mod line;
mod state;

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use crate::domain::delivery::{schedule, DeadLetter, DeliveryJob, Progress};
use crate::domain::ids::EndpointId;
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Enqueue, Entropy,
    Hold, IdempotencyKey, IdempotencyStore, QueueHold, Received, Sender,
};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How long a delivered delivery id is remembered (docs/architecture.md: 7 days).
    pub delivered_ttl: Duration,
    /// Added to the endpoint's timeout for the in-progress claim on a delivery, so a
    /// crashed worker's claim lapses before the queue redelivers its message.
    pub claim_margin: Duration,
    /// Compare-and-set rounds on an endpoint's state before giving up for this batch.
    pub cas_rounds: u32,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            delivered_ttl: Duration::from_secs(7 * 24 * 3600),
            claim_margin: Duration::from_secs(5),
            // Each round at least one contender wins, so a writer loses at most as many rounds
            // as there are writers on the item; 16 proved too few for eight workers racing on
            // one endpoint (admission and results per batch each), 64 leaves a wide margin.
            cas_rounds: 64,
        }
    }
}

/// The worker: delivers batches of jobs over the ports it owns (built once per process,
/// by [`crate::system`]).
#[derive(Clone)]
pub struct Worker {
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    /// Holds ordered jobs' messages in place on their (FIFO) queue.
    pub holds: Arc<dyn QueueHold>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    pub sender: Arc<dyn Sender>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub settings: WorkerSettings,
}

/// What became of one endpoint's jobs in a batch: the figures behind its metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub delivered: u32,
    pub retried: u32,
    pub deferred_circuit: u32,
    pub deferred_rate: u32,
    pub dead_lettered: u32,
    pub duplicates: u32,
    /// Ordered jobs left waiting in place without an attempt: behind an unfinished earlier
    /// job of their subject, or not due yet.
    pub held: u32,
    /// One entry per HTTP attempt.
    pub latencies_ms: Vec<u64>,
}

impl AddAssign<&EndpointStats> for EndpointStats {
    fn add_assign(&mut self, other: &EndpointStats) {
        self.delivered += other.delivered;
        self.retried += other.retried;
        self.deferred_circuit += other.deferred_circuit;
        self.deferred_rate += other.deferred_rate;
        self.dead_lettered += other.dead_lettered;
        self.duplicates += other.duplicates;
        self.held += other.held;
        self.latencies_ms.extend_from_slice(&other.latencies_ms);
    }
}

/// What became of a batch. `failed` lists the messages to leave on the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub failed: Vec<String>,
    /// The batch's figures, summed over its endpoints; `duplicates` are jobs already
    /// delivered or being delivered elsewhere, acknowledged without sending, and
    /// `dead_lettered` counts the letters the DLQ took.
    pub totals: EndpointStats,
    /// Jobs carried forward because their `not_before` lies beyond the queue's delay limit.
    pub hopped: u32,
    /// The same figures per endpoint (dead letters counted when decided).
    pub endpoints: BTreeMap<EndpointId, EndpointStats>,
}

impl AddAssign<&BatchReport> for BatchReport {
    /// Sums batches (a test's or a run's totals); the per-endpoint figures are not kept.
    fn add_assign(&mut self, other: &BatchReport) {
        self.failed.extend(other.failed.iter().cloned());
        self.totals += &other.totals;
        self.hopped += other.hopped;
    }
}

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
}

/// A job in hand, with the message it came in.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) message_id: String,
    pub(crate) receipt_handle: String,
    pub(crate) job: DeliveryJob,
}

impl Worker {
    /// Delivers one batch as received from the queue and says what became of it.
    pub async fn deliver(&self, messages: Vec<Received<DeliveryJob>>) -> BatchReport {
        let now = self.clock.now();
        let mut report = BatchReport::default();
        let mut follow_ups: Vec<(String, FollowUp)> = Vec::new();
        let mut groups: BTreeMap<EndpointId, Vec<Taken>> = BTreeMap::new();

        for message in messages {
            match message.body {
                // Nothing can be done with it here: redelivered until the queue redrives it to
                // the DLQ. The body is never logged: it may carry personal data.
                Err(e) => {
                    tracing::error!(
                        message_id = %message.message_id,
                        kind = ?e.kind,
                        line = e.line,
                        column = e.column,
                        "unreadable delivery job"
                    );
                    report.failed.push(message.message_id);
                }
                // An ordered job is never re-enqueued (that would leave its line); its wait
                // is decided once its claim says how far it got.
                Ok(job) => match job
                    .not_before
                    .filter(|t| *t > now && job.order_key.is_none())
                {
                    Some(due) => {
                        let (delay, not_before) = schedule(due, now);
                        let mut job = job;
                        job.not_before = not_before;
                        report.hopped += 1;
                        follow_ups.push((
                            message.message_id,
                            FollowUp::Enqueue {
                                enqueue: Enqueue { job, delay },
                                claim: None,
                            },
                        ));
                    }
                    None => groups
                        .entry(job.endpoint_id.clone())
                        .or_default()
                        .push(Taken {
                            message_id: message.message_id,
                            receipt_handle: message.receipt_handle,
                            job,
                        }),
                },
            }
        }

        let outcomes = join_all(groups.into_iter().map(|(endpoint_id, jobs)| async move {
            let outcome = group::deliver(self, endpoint_id.clone(), jobs).await;
            (endpoint_id, outcome)
        }))
        .await;
        for (endpoint_id, outcome) in outcomes {
            let mut stats = outcome.stats;
            // The batch counts its dead letters once the DLQ took them (in `flush`), and
            // keeps latencies per endpoint only: moved aside rather than cloned.
            let latencies = std::mem::take(&mut stats.latencies_ms);
            report.totals += &stats;
            stats.latencies_ms = latencies;
            stats.dead_lettered = count(&outcome.follow_ups, |f| {
                matches!(f, FollowUp::DeadLetter { .. })
            });
            report.endpoints.insert(endpoint_id, stats);
            follow_ups.extend(outcome.follow_ups);
        }

        flush(self, follow_ups, &mut report).await;
        report
    }
}

fn count(follow_ups: &[(String, FollowUp)], which: impl Fn(&FollowUp) -> bool) -> u32 {
    let n = follow_ups.iter().filter(|(_, f)| which(f)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Sends every re-enqueue in one call and every dead letter in another; the messages
/// behind a failed call stay on the queue.
async fn flush(worker: &Worker, follow_ups: Vec<(String, FollowUp)>, report: &mut BatchReport) {
    let mut enqueues = Vec::new();
    let mut letters = Vec::new();
    let mut holds = Vec::new();
    for (message_id, follow_up) in follow_ups {
        match follow_up {
            FollowUp::Done => {}
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

    if !enqueues.is_empty() {
        let jobs = enqueues.iter().map(|(_, e, _)| e.clone()).collect();
        if let Err(e) = worker.queue.enqueue(jobs).await {
            tracing::warn!(error = %e, "re-enqueueing failed; the messages stay queued");
            for (message_id, _, claim) in enqueues {
                release(worker, claim).await;
                report.failed.push(message_id);
            }
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
