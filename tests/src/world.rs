//! A whole system in memory: ingest, the deliveries queue and its DLQ, the worker and the
//! dlq function, pumped by hand under a manual clock the way SQS and Lambda would drive it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use authhooks::adapters::memory::{
    ManualClock, MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore,
    QueueSettings, SeededEntropy,
};
use authhooks::app::deliver::{deliver_batch, BatchReport, Received, WorkerPorts, WorkerSettings};
use authhooks::app::failures::{record_failures, RecordReport};
use authhooks::app::ingest::{ingest, Accepted, IngestError, IngestPorts, IngestSettings};
use authhooks::app::Env;
use authhooks::domain::endpoint::{Endpoint, UrlPolicy};
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::signature::Secret;
use authhooks::ports::{Clock, DeliveryQueue, EndpointStore, Entropy};

use crate::sender::ScriptedSender;

pub struct World {
    pub clock: Arc<ManualClock>,
    pub entropy: SeededEntropy,
    pub endpoints: MemoryEndpointStore,
    pub state: MemoryStateStore,
    pub failures: MemoryFailureStore,
    pub queue: Arc<MemoryQueue>,
    pub dlq: Arc<MemoryQueue>,
    pub sender: ScriptedSender,
    pub ingest_settings: IngestSettings,
    pub worker_settings: WorkerSettings,
    reports: Mutex<(BatchReport, RecordReport)>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let dlq = Arc::new(MemoryQueue::new(
            dyn_clock.clone(),
            QueueSettings::default(),
        ));
        let queue = Arc::new(
            MemoryQueue::new(dyn_clock.clone(), QueueSettings::default())
                .with_dead_letter(dlq.clone()),
        );
        Self {
            entropy: SeededEntropy::new(7),
            endpoints: MemoryEndpointStore::new(),
            state: MemoryStateStore::new(),
            failures: MemoryFailureStore::new(),
            queue,
            dlq,
            sender: ScriptedSender::new(dyn_clock),
            clock,
            ingest_settings: IngestSettings::default(),
            worker_settings: WorkerSettings::default(),
            reports: Mutex::new(Default::default()),
        }
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            clock: self.clock.as_ref(),
            entropy: &self.entropy,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Creates an endpoint from an admin-API body; loopback and http are allowed here.
    pub async fn add_endpoint(&self, body: Value) -> (Endpoint, Secret) {
        let policy = UrlPolicy {
            allow_http: true,
            allow_private: true,
        };
        let (endpoint, secret) = parse_new(
            &body,
            &policy,
            self.now(),
            &mut || self.entropy.u128(),
            self.entropy.bytes32(),
        )
        .unwrap_or_else(|errors| panic!("invalid endpoint {body}: {errors:?}"));
        self.endpoints.put(&endpoint).await.unwrap();
        (endpoint, secret)
    }

    pub async fn ingest(&self, body: &Value) -> Result<Vec<Accepted>, IngestError> {
        self.ingest_with(self.queue.as_ref(), body).await
    }

    /// Ingest through another queue (one that fails on purpose, say).
    pub async fn ingest_with(
        &self,
        queue: &dyn DeliveryQueue,
        body: &Value,
    ) -> Result<Vec<Accepted>, IngestError> {
        let ports = IngestPorts {
            endpoints: &self.endpoints,
            idempotency: &self.state,
            queue,
        };
        let bytes = serde_json::to_vec(body).unwrap();
        ingest(&ports, &self.ingest_settings, self.env(), &bytes, None).await
    }

    /// One round of what SQS and Lambda do: a batch of up to ten visible deliveries to the
    /// worker and a batch of dead letters to the dlq function, acknowledging what they did
    /// not report as failed. Whether anything was received.
    pub async fn step(&self) -> bool {
        let batch = self.queue.receive(10);
        let letters = self.dlq.receive(10);
        if batch.is_empty() && letters.is_empty() {
            return false;
        }
        if !batch.is_empty() {
            let ports = WorkerPorts {
                endpoints: &self.endpoints,
                state: &self.state,
                idempotency: &self.state,
                queue: self.queue.as_ref(),
                dead_letters: self.dlq.as_ref(),
                sender: &self.sender,
            };
            let received = batch
                .iter()
                .map(|m| Received {
                    message_id: m.message_id.clone(),
                    body: m.body.clone(),
                })
                .collect();
            let report = deliver_batch(&ports, &self.worker_settings, self.env(), received).await;
            for message in &batch {
                if !report.failed.contains(&message.message_id) {
                    self.queue.delete(&message.receipt_handle);
                }
            }
            add(&mut self.reports.lock().unwrap().0, &report);
        }
        if !letters.is_empty() {
            let received = letters
                .iter()
                .map(|m| Received {
                    message_id: m.message_id.clone(),
                    body: m.body.clone(),
                })
                .collect();
            let report = record_failures(&self.failures, self.env(), received).await;
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

    /// Pumps until both queues are empty, jumping the clock to the next visible message
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

    /// Pumps until both queues are empty (`Ok`) or the next visible message lies past
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
            let next = [self.queue.next_visible_at(), self.dlq.next_visible_at()]
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

    /// What both queues hold, for a failure message.
    fn backlog(&self) -> String {
        let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
        let t = self.worker_totals();
        format!(
            "the deliveries queue holds {} message(s), next visible at {}; the DLQ holds {}, \
             next visible at {} (so far: delivered {}, retried {}, deferred {}+{}, hopped {}, \
             duplicates {}, dead-lettered {})",
            self.queue.len(),
            at(self.queue.next_visible_at()),
            self.dlq.len(),
            at(self.dlq.next_visible_at()),
            t.delivered,
            t.retried,
            t.deferred_circuit,
            t.deferred_rate,
            t.hopped,
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

fn add(total: &mut BatchReport, report: &BatchReport) {
    total.failed.extend(report.failed.iter().cloned());
    total.delivered += report.delivered;
    total.retried += report.retried;
    total.deferred_circuit += report.deferred_circuit;
    total.deferred_rate += report.deferred_rate;
    total.dead_lettered += report.dead_lettered;
    total.duplicates += report.duplicates;
    total.hopped += report.hopped;
}
