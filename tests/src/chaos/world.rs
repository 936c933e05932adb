//! The system under test, built from local mode's pieces: the stores, the deliveries queues
//! (standard and ordered) and the DLQs, and their inboxes — in memory with a short visibility timeout, or on an
//! SQS/DynamoDB API (moto) under fresh, uniquely named tables and queues. Every job the
//! pipeline enqueues may be sent twice, as SQS's at-least-once delivery allows.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_sqs::types::QueueAttributeName;

use authhooks::adapters::dynamodb::{create_tables, TableNames};
use authhooks::adapters::memory::{MemoryQueue, QueueSettings};
use authhooks::adapters::sqs::create_all_queues;
use authhooks::domain::ids::DeliveryId;
use authhooks::local::inbox::MemoryQueues;
use authhooks::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Enqueue,
    FailureStore, IdempotencyStore, PortError, QueueConsumer, Sender, SystemClock, SystemEntropy,
};
use authhooks::system::{AwsBackend, MemoryBackend, SystemBuilder};

use super::causes::CauseLog;
use super::faults::{mix, unit};
use super::ChaosError;

/// Queue behaviour shared by both backends.
#[derive(Debug, Clone, Copy)]
pub struct QueueTuning {
    /// Must outlast a delivery's claim lease (endpoint timeout + claim margin) plus the
    /// time from receive to claim, or a redelivered message finds its own live lease.
    pub visibility: Duration,
    pub max_receive_count: u32,
}

enum Backlog {
    Memory(Vec<Arc<MemoryQueue>>),
    Sqs(aws_sdk_sqs::Client, Vec<String>),
}

pub struct ChaosWorld {
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub failures: Arc<dyn FailureStore>,
    /// The deliveries queues behind the duplicating wrapper: what ingest and workers send
    /// to (on the ordered one FIFO deduplication drops the copies).
    pub queue: Arc<DuplicatingQueue>,
    pub ordered_queue: Arc<DuplicatingQueue>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    pub deliveries_inbox: Arc<dyn QueueConsumer>,
    pub ordered_inbox: Arc<dyn QueueConsumer>,
    pub dlq_inboxes: Vec<Arc<dyn QueueConsumer>>,
    pub clock: Arc<dyn Clock>,
    /// What may send a delivery twice, noted by the duplicating queue and the workers'
    /// wrappers.
    pub causes: Arc<CauseLog>,
    /// The system's ports, the duplicating queue among them, for ingest and the workers.
    pub builder: SystemBuilder,
    backlog: Backlog,
}

impl ChaosWorld {
    pub fn memory(
        tuning: QueueTuning,
        duplicate_rate: f64,
        seed: u64,
        sender: Arc<dyn Sender>,
    ) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let settings = QueueSettings {
            visibility_timeout: tuning.visibility,
            max_receive_count: Some(tuning.max_receive_count),
        };
        let queues = MemoryQueues::new(clock.clone(), settings);
        let builder = MemoryBackend::with_queues(
            queues.deliveries.clone(),
            queues.ordered.clone(),
            queues.priority.clone(),
            queues.dlq.clone(),
        )
        .builder(clock, Arc::new(SystemEntropy), sender);
        Self::over(
            builder,
            Inboxes {
                deliveries: queues.deliveries_inbox,
                ordered: queues.ordered_inbox,
                dlqs: vec![queues.dlq_inbox],
            },
            duplicate_rate,
            seed,
            Backlog::Memory(vec![queues.deliveries, queues.ordered, queues.dlq]),
        )
    }

    /// Fresh tables and queues named after `prefix` on the API at `config`.
    pub async fn aws(
        config: &SdkConfig,
        prefix: &str,
        tuning: QueueTuning,
        duplicate_rate: f64,
        seed: u64,
        sender: Arc<dyn Sender>,
    ) -> Result<Self, ChaosError> {
        let dynamo = aws_sdk_dynamodb::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let names = TableNames::named(|table| format!("{prefix}-{table}"));
        create_tables(&dynamo, &names).await?;
        let urls = create_all_queues(
            &sqs,
            prefix,
            tuning.max_receive_count,
            u32::try_from(tuning.visibility.as_secs().max(1)).unwrap_or(30),
        )
        .await?;
        let backend = AwsBackend::new(&dynamo, &sqs, &names, &urls);
        let all = urls.all().map(str::to_owned).to_vec();
        Ok(Self::over(
            backend.deployed(sender),
            Inboxes {
                deliveries: backend.deliveries,
                ordered: backend.ordered,
                dlqs: vec![backend.dlq, backend.ordered_dlq],
            },
            duplicate_rate,
            seed,
            Backlog::Sqs(sqs, all),
        ))
    }

    /// The world over a backend's ports, its deliveries queues behind duplicating ones.
    fn over(
        builder: SystemBuilder,
        inboxes: Inboxes,
        duplicate_rate: f64,
        seed: u64,
        backlog: Backlog,
    ) -> Self {
        let causes = Arc::new(CauseLog::default());
        let duplicating = |inner: &Arc<dyn DeliveryQueue>, salt: u64| {
            Arc::new(DuplicatingQueue::new(
                inner.clone(),
                duplicate_rate,
                seed ^ salt,
                causes.clone(),
            ))
        };
        let queue = duplicating(&builder.ports.queue, 0);
        let ordered_queue = duplicating(&builder.ports.ordered_queue, 0x0bde_2ed0);
        // The priority lane shares the standard queue here: the faults it is put through
        // are the standard queue's, and its own consumers are the local mode tests' to show.
        let builder = builder.with(|ports| {
            ports.queue = queue.clone();
            ports.priority_queue = queue.clone();
            ports.priority_fan_out = ports.fan_out.clone();
            ports.ordered_queue = ordered_queue.clone();
        });
        let ports = &builder.ports;
        Self {
            endpoints: ports.endpoints.clone(),
            state: ports.state.clone(),
            idempotency: ports.idempotency.clone(),
            failures: ports.failures.clone(),
            queue,
            ordered_queue,
            dead_letters: ports.dead_letters.clone(),
            deliveries_inbox: inboxes.deliveries,
            ordered_inbox: inboxes.ordered,
            dlq_inboxes: inboxes.dlqs,
            clock: ports.clock.clone(),
            causes,
            backlog,
            builder,
        }
    }

    /// Messages held by both queues, visible, in flight or delayed.
    pub async fn backlog(&self) -> Result<usize, ChaosError> {
        match &self.backlog {
            Backlog::Memory(queues) => Ok(queues.iter().map(|q| q.len()).sum()),
            Backlog::Sqs(client, urls) => {
                let mut total = 0;
                for url in urls {
                    let attributes = client
                        .get_queue_attributes()
                        .queue_url(url)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                        .send()
                        .await
                        .map_err(|e| ChaosError::Setup(format!("GetQueueAttributes: {e}")))?
                        .attributes
                        .unwrap_or_default();
                    total += attributes
                        .values()
                        .filter_map(|v| v.parse::<usize>().ok())
                        .sum::<usize>();
                }
                Ok(total)
            }
        }
    }
}

/// Where the workers and the recorders take messages from.
struct Inboxes {
    deliveries: Arc<dyn QueueConsumer>,
    ordered: Arc<dyn QueueConsumer>,
    dlqs: Vec<Arc<dyn QueueConsumer>>,
}

/// SDK configuration for an SQS/DynamoDB API at `url` with dummy credentials.
pub async fn sdk_config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "chaos"))
        .load()
        .await
}

/// Sends some jobs twice: duplicate queue delivery, which the worker's delivery claims must
/// absorb. A job (delivery and attempt) is doubled at most once: a job deferred behind an
/// open circuit is re-enqueued every second or so, and doubling each copy again with the
/// same chance would grow the queue exponentially — SQS duplicates a message now and then,
/// it does not compound (the first full-setting run stalled on exactly that).
pub struct DuplicatingQueue {
    inner: Arc<dyn DeliveryQueue>,
    rate: f64,
    seed: u64,
    draws: AtomicU64,
    duplicated: AtomicU64,
    doubled: Mutex<HashSet<(DeliveryId, u64)>>,
    causes: Arc<CauseLog>,
}

impl DuplicatingQueue {
    pub fn new(inner: Arc<dyn DeliveryQueue>, rate: f64, seed: u64, causes: Arc<CauseLog>) -> Self {
        Self {
            inner,
            rate,
            seed,
            draws: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
            doubled: Mutex::new(HashSet::new()),
            causes,
        }
    }

    /// Jobs sent twice so far.
    pub fn duplicated(&self) -> u64 {
        self.duplicated.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl DeliveryQueue for DuplicatingQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let twice: Vec<Enqueue> = {
            let mut doubled = self
                .doubled
                .lock()
                .map_err(|_| PortError::Unavailable("duplicating queue: lock poisoned".into()))?;
            jobs.iter()
                .filter(|e| {
                    let draw = self.draws.fetch_add(1, Ordering::Relaxed);
                    unit(mix(draw ^ self.seed.rotate_left(29))) < self.rate
                        && doubled.insert((e.job.delivery_id.clone(), e.job.claim_token()))
                })
                .cloned()
                .collect()
        };
        let n = twice.len() as u64;
        self.inner.enqueue(jobs).await?;
        if n > 0 {
            // Noted before sending: a copy half sent still counts as a cause.
            for e in &twice {
                self.causes
                    .note(&e.job.endpoint_id, |c| c.queued_twice += 1);
            }
            self.inner.enqueue(twice).await?;
            self.duplicated.fetch_add(n, Ordering::Relaxed);
        }
        Ok(())
    }
}
