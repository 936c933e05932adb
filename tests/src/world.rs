//! A whole system in memory: ingest, the deliveries queues (standard, ordered, priority) and the
//! DLQ, the worker and the dlq function, pumped by hand under a manual clock the way SQS and
//! Lambda would drive it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use authhooks::adapters::memory::{
    ManualClock, MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore,
    QueueSettings, SeededEntropy,
};
use authhooks::app::deliver::BatchReport;
use authhooks::app::failures::RecordReport;
use authhooks::app::ingest::{Accepted, IngestError};
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::signature::Secret;
use authhooks::local::pump::received;
use authhooks::ports::{Clock, DeliveryQueue};
use authhooks::system::{MemoryBackend, Settings, System, SystemBuilder};

use crate::sender::ScriptedSender;

pub struct World {
    pub clock: Arc<ManualClock>,
    pub entropy: Arc<SeededEntropy>,
    pub endpoints: Arc<MemoryEndpointStore>,
    pub state: Arc<MemoryStateStore>,
    pub failures: Arc<MemoryFailureStore>,
    pub queue: Arc<MemoryQueue>,
    /// The ordered (FIFO) deliveries queue.
    pub ordered: Arc<MemoryQueue>,
    /// The priority lane's deliveries queue.
    pub priority: Arc<MemoryQueue>,
    pub dlq: Arc<MemoryQueue>,
    pub sender: Arc<ScriptedSender>,
    /// The system over all of the above (http and loopback destinations allowed).
    pub system: System,
    builder: SystemBuilder,
    reports: Mutex<(BatchReport, RecordReport)>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        Self::with_settings(Settings::permissive())
    }

    /// A world whose system runs with `settings` (loopback and http allowed or not, as
    /// they say).
    pub fn with_settings(settings: Settings) -> Self {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let backend = MemoryBackend::new(dyn_clock.clone(), QueueSettings::default());
        let entropy = Arc::new(SeededEntropy::new(7));
        let sender = Arc::new(ScriptedSender::new(dyn_clock.clone()));
        let builder = backend
            .builder(dyn_clock, entropy.clone(), sender.clone())
            .settings(settings);
        Self {
            entropy,
            endpoints: backend.endpoints,
            state: backend.state,
            failures: backend.failures,
            queue: backend.deliveries,
            ordered: backend.ordered,
            priority: backend.priority,
            dlq: backend.dlq,
            sender,
            clock,
            system: builder.clone().build(),
            builder,
            reports: Mutex::new(Default::default()),
        }
    }

    /// The world's ports and settings, to build a system with one of them replaced (a
    /// queue that fails on purpose, a sender that holds its request).
    pub fn builder(&self) -> SystemBuilder {
        self.builder.clone()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Creates an endpoint from an admin-API body; loopback and http are allowed here.
    pub async fn add_endpoint(&self, body: Value) -> (Endpoint, Secret) {
        self.system
            .admin
            .create_endpoint(&body)
            .await
            .unwrap_or_else(|errors| panic!("invalid endpoint {body}: {errors:?}"))
    }

    pub async fn ingest(&self, body: &Value) -> Result<Vec<Accepted>, IngestError> {
        let bytes = serde_json::to_vec(body).unwrap();
        self.system.ingest.ingest(&bytes, None, None).await
    }

    /// Ingest through another queue (one that fails on purpose, say).
    pub async fn ingest_with(
        &self,
        queue: Arc<dyn DeliveryQueue>,
        body: &Value,
    ) -> Result<Vec<Accepted>, IngestError> {
        let system = self
            .builder()
            .with(|ports| {
                ports.queue = queue.clone();
                ports.priority_queue = queue.clone();
                ports.ordered_queue = queue;
            })
            .build();
        let bytes = serde_json::to_vec(body).unwrap();
        system.ingest.ingest(&bytes, None, None).await
    }

    /// One round of what SQS and Lambda do: a batch of up to ten visible deliveries from
    /// each deliveries queue to the worker and a batch of dead letters to the dlq function,
    /// acknowledging what they did not report as failed. Whether anything was received.
    pub async fn step(&self) -> bool {
        let mut busy = false;
        for queue in [&self.queue, &self.ordered, &self.priority] {
            let batch = queue.receive(10);
            if batch.is_empty() {
                continue;
            }
            busy = true;
            let report = self.system.worker.work(received(&batch)).await;
            for message in &batch {
                if !report.failed.contains(&message.message_id) {
                    queue.delete(&message.receipt_handle);
                }
            }
            self.reports.lock().unwrap().0 += &report;
        }
        let letters = self.dlq.receive(10);
        if !busy && letters.is_empty() {
            return false;
        }
        if !letters.is_empty() {
            let report = self.system.recorder.record(received(&letters)).await;
            for message in &letters {
                if !report.failed.contains(&message.message_id) {
                    self.dlq.delete(&message.receipt_handle);
                }
            }
            let mut totals = self.reports.lock().unwrap();
            totals.1.recorded += report.recorded;
            totals.1.duplicates += report.duplicates;
        }
        true
    }

    /// Pumps until every queue is empty, jumping the clock to the next visible message
    /// whenever nothing is visible, and FAILS if anything is still queued past `horizon` of
    /// simulated time: counts taken after it are counts of a drained system, so a job left
    /// circling (re-enqueued forever, hopping, redelivered) cannot hide behind them.
    pub async fn run_until_idle(&self, horizon: Duration) {
        if let Err(left) = self.pump(horizon).await {
            panic!("run_until_idle: not drained within {horizon:?} of simulated time: {left}");
        }
    }

    /// Pumps like [`World::run_until_idle`] but stops quietly at `horizon` with work still
    /// queued: only for a test that deliberately stops mid-flight. Whether it drained.
    pub async fn run_until(&self, horizon: Duration) -> bool {
        self.pump(horizon).await.is_ok()
    }

    /// Pumps until every queue is empty (`Ok`) or the next visible message lies past
    /// `horizon` (`Err`, describing what is left where).
    async fn pump(&self, horizon: Duration) -> Result<(), String> {
        // A job re-enqueued with no delay would keep `step` busy at one instant forever.
        const ROUNDS_PER_INSTANT: u32 = 100_000;
        let deadline = authhooks::domain::delivery::later(self.now(), horizon);
        let mut rounds = 0;
        loop {
            if self.step().await {
                rounds += 1;
                if rounds > ROUNDS_PER_INSTANT {
                    return Err(format!(
                        "still busy after {ROUNDS_PER_INSTANT} rounds at {}; {}",
                        self.now(),
                        self.backlog()
                    ));
                }
                continue;
            }
            let next = [
                self.queue.next_visible_at(),
                self.ordered.next_visible_at(),
                self.priority.next_visible_at(),
                self.dlq.next_visible_at(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                None => return Ok(()),
                Some(at) if at <= deadline => {
                    self.clock.advance_to(at);
                    rounds = 0;
                }
                Some(_) => return Err(format!("at {deadline}, {}", self.backlog())),
            }
        }
    }

    /// What the queues hold, for a failure message.
    fn backlog(&self) -> String {
        let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
        let report = self.worker_totals();
        let t = &report.totals;
        format!(
            "the deliveries queue holds {} message(s), next visible at {}; the ordered queue {}, \
             next visible at {}; the priority queue {}, next visible at {}; the DLQ holds {}, \
             next visible at {} (so far: delivered {}, \
             retried {}, deferred {}+{}, hopped {}, held {}, duplicates {}, dead-lettered {})",
            self.queue.len(),
            at(self.queue.next_visible_at()),
            self.ordered.len(),
            at(self.ordered.next_visible_at()),
            self.priority.len(),
            at(self.priority.next_visible_at()),
            self.dlq.len(),
            at(self.dlq.next_visible_at()),
            t.delivered,
            t.retried,
            t.deferred_circuit,
            t.deferred_rate,
            report.hopped,
            t.held,
            t.duplicates,
            t.dead_lettered
        )
    }

    /// Everything the worker reported so far, summed.
    pub fn worker_totals(&self) -> BatchReport {
        self.reports.lock().unwrap().0.clone()
    }

    pub fn recorder_totals(&self) -> RecordReport {
        self.reports.lock().unwrap().1.clone()
    }
}
