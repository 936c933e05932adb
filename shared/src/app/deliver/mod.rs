//! The worker's use case: deliver a batch of jobs from the queue. Per job: not-before,
//! circuit, rate, send, outcome, then ack, re-enqueue with a delay, or dead-letter. Only
//! infrastructure errors leave a message unacknowledged, so the queue redelivers it.

mod group;
mod state;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;

use super::Env;
use crate::domain::delivery::{schedule, DeadLetter, DeliveryJob};
use crate::domain::ids::EndpointId;
use crate::ports::{
    DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Enqueue, IdempotencyKey,
    IdempotencyStore, Sender,
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

pub struct WorkerPorts<'a> {
    pub endpoints: &'a dyn EndpointStore,
    pub state: &'a dyn EndpointStateStore,
    pub idempotency: &'a dyn IdempotencyStore,
    pub queue: &'a dyn DeliveryQueue,
    pub dead_letters: &'a dyn DeadLetterQueue,
    pub sender: &'a dyn Sender,
}

/// A message as the queue handed it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub body: String,
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
    /// One entry per HTTP attempt.
    pub latencies_ms: Vec<u64>,
}

/// What became of a batch. `failed` lists the messages to leave on the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub failed: Vec<String>,
    pub delivered: u32,
    pub retried: u32,
    pub deferred_circuit: u32,
    pub deferred_rate: u32,
    pub dead_lettered: u32,
    /// Jobs already delivered or being delivered elsewhere, acknowledged without sending.
    pub duplicates: u32,
    /// Jobs carried forward because their `not_before` lies beyond the queue's delay limit.
    pub hopped: u32,
    /// The same figures per endpoint (dead letters counted when decided).
    pub endpoints: BTreeMap<EndpointId, EndpointStats>,
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
    },
    /// Infrastructure trouble: leave the message for the queue to redeliver.
    Redeliver,
}

pub async fn deliver_batch(
    ports: &WorkerPorts<'_>,
    settings: &WorkerSettings,
    env: Env<'_>,
    messages: Vec<Received>,
) -> BatchReport {
    let now = env.now();
    let mut report = BatchReport::default();
    let mut follow_ups: Vec<(String, FollowUp)> = Vec::new();
    let mut groups: BTreeMap<EndpointId, Vec<(String, DeliveryJob)>> = BTreeMap::new();

    for message in messages {
        match serde_json::from_str::<DeliveryJob>(&message.body) {
            // Nothing can be done with it here: redelivered until the queue redrives it to
            // the DLQ. The body is never logged: it may carry personal data.
            Err(e) => {
                tracing::error!(
                    message_id = %message.message_id,
                    kind = ?e.classify(),
                    line = e.line(),
                    column = e.column(),
                    "unreadable delivery job"
                );
                report.failed.push(message.message_id);
            }
            Ok(job) => match job.not_before.filter(|t| *t > now) {
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
                    .push((message.message_id, job)),
            },
        }
    }

    let outcomes = join_all(groups.into_iter().map(|(endpoint_id, jobs)| async move {
        let outcome = group::deliver(ports, settings, env, endpoint_id.clone(), jobs).await;
        (endpoint_id, outcome)
    }))
    .await;
    for (endpoint_id, outcome) in outcomes {
        let mut stats = outcome.stats;
        stats.dead_lettered = count(&outcome.follow_ups, |f| {
            matches!(f, FollowUp::DeadLetter { .. })
        });
        report.delivered += stats.delivered;
        report.retried += stats.retried;
        report.deferred_circuit += stats.deferred_circuit;
        report.deferred_rate += stats.deferred_rate;
        report.duplicates += stats.duplicates;
        report.endpoints.insert(endpoint_id, stats);
        follow_ups.extend(outcome.follow_ups);
    }

    flush(ports, follow_ups, &mut report).await;
    report
}

fn count(follow_ups: &[(String, FollowUp)], which: impl Fn(&FollowUp) -> bool) -> u32 {
    let n = follow_ups.iter().filter(|(_, f)| which(f)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Sends every re-enqueue in one call and every dead letter in another; the messages
/// behind a failed call stay on the queue.
async fn flush(
    ports: &WorkerPorts<'_>,
    follow_ups: Vec<(String, FollowUp)>,
    report: &mut BatchReport,
) {
    let mut enqueues = Vec::new();
    let mut letters = Vec::new();
    for (message_id, follow_up) in follow_ups {
        match follow_up {
            FollowUp::Done => {}
            FollowUp::Redeliver => report.failed.push(message_id),
            FollowUp::Enqueue { enqueue, claim } => enqueues.push((message_id, enqueue, claim)),
            FollowUp::DeadLetter { letter, claim } => letters.push((message_id, letter, claim)),
        }
    }

    if !enqueues.is_empty() {
        let jobs = enqueues.iter().map(|(_, e, _)| e.clone()).collect();
        if let Err(e) = ports.queue.enqueue(jobs).await {
            tracing::warn!(error = %e, "re-enqueueing failed; the messages stay queued");
            for (message_id, _, claim) in enqueues {
                release(ports, claim).await;
                report.failed.push(message_id);
            }
        }
    }
    if !letters.is_empty() {
        let count = u32::try_from(letters.len()).unwrap_or(u32::MAX);
        let batch = letters.iter().map(|(_, l, _)| l.clone()).collect();
        if let Err(e) = ports.dead_letters.dead_letter(batch).await {
            tracing::warn!(error = %e, count, "dead-lettering failed; the messages stay queued");
            for (message_id, _, claim) in letters {
                release(ports, claim).await;
                report.failed.push(message_id);
            }
        } else {
            report.dead_lettered += count;
        }
    }
}

/// Gives up the claim behind a message left on the queue, so its redelivery may claim the
/// delivery again at once. Best effort: a claim that stays lapses after its lease.
async fn release(ports: &WorkerPorts<'_>, claim: Option<(IdempotencyKey, u64)>) {
    if let Some((key, token)) = claim {
        let _ = ports.idempotency.release(&key, token).await;
    }
}
