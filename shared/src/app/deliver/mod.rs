//! The worker's use case: deliver a batch of jobs from the queue. Per job: not-before,
//! circuit, rate, send, outcome, then ack, re-enqueue with a delay, or dead-letter; an
//! ordered job instead waits in place (its message held) and holds back the rest of its
//! line. Otherwise only infrastructure errors leave a message unacknowledged, so the queue
//! redelivers it.

mod attempt;
mod attempted;
mod batch;
mod claim;
mod conclusion;
mod deferral;
mod expand;
mod follow_up;
mod group;
mod hop;
mod line;
mod notify;
mod slots;
mod state;
mod transform;

pub use slots::InFlight;

use follow_up::flush;
pub(crate) use follow_up::FollowUp;

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use crate::domain::delivery::DeliveryJob;
use crate::domain::delivery_log::{LogBatch, LogEntry};
use crate::domain::fanout::FanOutSettings;
use crate::domain::ids::EndpointId;
use crate::domain::in_flight;
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryLog, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FanOutQueue, IdempotencyStore, Notices, QueueHold, Received, Scripts, Sender, Subscribers,
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
    /// How long into a batch an ordered line may still start its next delivery. A line's
    /// deliveries go one after the other, so ten slow ones could outlast the function
    /// (Lambda's 60 s) and have the whole batch handed out again; past this, what is left
    /// of a line goes back to the queue, behind its last delivery.
    pub line_budget: Duration,
    /// Attempts one endpoint may have in flight in this process; jobs over it wait without
    /// an attempt counted, so a receiver that never answers cannot take every slot.
    pub max_in_flight: u32,
    /// Pages, partitions and the backlog a fan-out task waits for.
    pub fan_out: FanOutSettings,
    /// The share of delivered attempts logged at info (the rest at debug); attempts that
    /// did not deliver always are. All of them locally; the Lambda worker logs 1 in 100
    /// (`AUTHHOOKS_SUCCESS_LOG_SAMPLE`), since CloudWatch Logs bills every line.
    pub success_log_sample: f64,
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
            // A delivery started by then ends within the longest timeout (30 s) and its
            // claim margin, inside the worker function's 60 s.
            line_budget: Duration::from_secs(20),
            max_in_flight: in_flight::DEFAULT_MAX_IN_FLIGHT,
            fan_out: FanOutSettings::default(),
            success_log_sample: 1.0,
        }
    }
}

/// The worker: delivers batches of jobs over the ports it owns (built once per process,
/// by [`crate::system`]).
#[derive(Clone)]
pub struct Worker {
    pub endpoints: Arc<dyn EndpointStore>,
    /// What fan-out tasks page through.
    pub subscribers: Arc<dyn Subscribers>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    /// Where a fan-out task's next page goes.
    pub fan_out: Arc<dyn FanOutQueue>,
    /// Holds ordered jobs' messages in place on their (FIFO) queue.
    pub holds: Arc<dyn QueueHold>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    /// Where authhooks' own events (a circuit opened, an endpoint disabled, a delivery
    /// given up on) go: ingest's fan-out, to the endpoints subscribed to them.
    pub notices: Arc<dyn Notices>,
    /// Where each batch's attempts are logged.
    pub log: Arc<dyn DeliveryLog>,
    pub sender: Arc<dyn Sender>,
    /// Runs endpoints' transformations (§3.17).
    pub scripts: Arc<dyn Scripts>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub settings: WorkerSettings,
    /// Attempts in flight per endpoint, shared by this worker's clones.
    pub in_flight: Arc<InFlight>,
}

/// What became of one endpoint's jobs in a batch: the figures behind its metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub delivered: u32,
    pub retried: u32,
    pub deferred_circuit: u32,
    pub deferred_rate: u32,
    /// Jobs held back because their endpoint had as many attempts in flight as it may.
    pub deferred_busy: u32,
    /// A batching endpoint's fresh jobs sent back to wait for more of its events to share
    /// their POST (no attempt counted).
    pub gathering: u32,
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
        self.deferred_busy += other.deferred_busy;
        self.gathering += other.gathering;
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
    /// Delivery jobs enqueued by the batch's fan-out tasks.
    pub fanned_out: u32,
    /// The same figures per endpoint (dead letters counted when decided).
    pub endpoints: BTreeMap<EndpointId, EndpointStats>,
}

impl AddAssign<&BatchReport> for BatchReport {
    /// Sums batches (a test's or a run's totals); the per-endpoint figures are not kept.
    fn add_assign(&mut self, other: &BatchReport) {
        self.failed.extend(other.failed.iter().cloned());
        self.totals += &other.totals;
        self.hopped += other.hopped;
        self.fanned_out += other.fanned_out;
    }
}

/// A job in hand, with the message it came in.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) message_id: String,
    pub(crate) receipt_handle: String,
    pub(crate) job: DeliveryJob,
}

impl Taken {
    /// The job and the jobs its message carries (a batch's, §3.15), each in hand on its
    /// own, all with the one message.
    fn apart(self) -> Vec<Taken> {
        if self.job.gathered.is_empty() {
            return vec![self];
        }
        let Taken {
            message_id,
            receipt_handle,
            job,
        } = self;
        job.unpack()
            .into_iter()
            .map(|job| Taken {
                message_id: message_id.clone(),
                receipt_handle: receipt_handle.clone(),
                job,
            })
            .collect()
    }
}

impl Worker {
    /// Delivers one batch as received from the queue and says what became of it.
    pub async fn deliver(&self, messages: Vec<Received<DeliveryJob>>) -> BatchReport {
        let now = self.clock.now();
        let mut report = BatchReport::default();
        let mut follow_ups: Vec<(String, FollowUp)> = Vec::new();
        let mut groups: BTreeMap<EndpointId, Vec<Taken>> = BTreeMap::new();
        let mut waiting = Vec::new();

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
                Ok(job) => {
                    let not_due =
                        job.not_before.is_some_and(|t| t > now) && job.order_key.is_none();
                    let taken = Taken {
                        message_id: message.message_id,
                        receipt_handle: message.receipt_handle,
                        job,
                    };
                    if not_due {
                        waiting.push(taken);
                    } else {
                        for taken in taken.apart() {
                            groups
                                .entry(taken.job.endpoint_id.clone())
                                .or_default()
                                .push(taken);
                        }
                    }
                }
            }
        }
        if !waiting.is_empty() {
            let (due, hops) = hop::sort(self, waiting, now).await;
            report.hopped += u32::try_from(hops.len()).unwrap_or(u32::MAX);
            follow_ups.extend(hops);
            for taken in due.into_iter().flat_map(Taken::apart) {
                groups
                    .entry(taken.job.endpoint_id.clone())
                    .or_default()
                    .push(taken);
            }
        }

        let outcomes = join_all(groups.into_iter().map(|(endpoint_id, jobs)| async move {
            let outcome = group::deliver(self, endpoint_id.clone(), jobs).await;
            (endpoint_id, outcome)
        }))
        .await;
        let mut logged = Vec::new();
        for (endpoint_id, mut outcome) in outcomes {
            logged.append(&mut outcome.log);
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
        self.log_attempts(logged).await;
        // A message carrying a batch's jobs is named once however many of them stay.
        let mut named = std::collections::HashSet::new();
        report.failed.retain(|id| named.insert(id.clone()));
        report
    }

    /// One write for the batch's attempts, after its follow-ups: the log is a view, so a
    /// lost write costs a view of them and never holds a delivery up.
    async fn log_attempts(&self, entries: Vec<LogEntry>) {
        let count = entries.len();
        let Some(batch) = LogBatch::new(entries, self.entropy.u128() as u64) else {
            return;
        };
        if let Err(e) = self.log.append(&batch).await {
            tracing::warn!(error = %e, count, "attempts not logged");
        }
    }
}

fn count(follow_ups: &[(String, FollowUp)], which: impl Fn(&FollowUp) -> bool) -> u32 {
    let n = follow_ups.iter().filter(|(_, f)| which(f)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}
