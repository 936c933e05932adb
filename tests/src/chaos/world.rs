//! The system under test, built from local mode's pieces: the stores, the deliveries queue
//! and its DLQ, and their inboxes — in memory with a short visibility timeout, or on an
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

use authhooks::adapters::dynamodb::{
    create_tables, DynamoEndpointStore, DynamoFailureStore, DynamoStateStore, TableNames,
};
use authhooks::adapters::memory::{
    MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore, QueueSettings,
};
use authhooks::adapters::sqs::{create_queues, SqsQueue};
use authhooks::domain::ids::DeliveryId;
use authhooks::local::inbox::{Inbox, MemoryQueues};
use authhooks::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Enqueue,
    FailureStore, IdempotencyStore, PortError, SystemClock,
};

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
    Memory(Arc<MemoryQueue>, Arc<MemoryQueue>),
    Sqs(aws_sdk_sqs::Client, Vec<String>),
}

pub struct ChaosWorld {
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub failures: Arc<dyn FailureStore>,
    /// The deliveries queue behind the duplicating wrapper: what ingest and workers send to.
    pub queue: Arc<DuplicatingQueue>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    pub deliveries_inbox: Arc<dyn Inbox>,
    pub dlq_inbox: Arc<dyn Inbox>,
    pub clock: Arc<dyn Clock>,
    /// What may send a delivery twice, noted by the duplicating queue and the workers'
    /// wrappers.
    pub causes: Arc<CauseLog>,
    backlog: Backlog,
}

impl ChaosWorld {
    pub fn memory(tuning: QueueTuning, duplicate_rate: f64, seed: u64) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let settings = QueueSettings {
            visibility_timeout: tuning.visibility,
            max_receive_count: Some(tuning.max_receive_count),
        };
        let queues = MemoryQueues::new(clock.clone(), settings);
        let (deliveries, dlq) = (queues.deliveries, queues.dlq);
        let state = Arc::new(MemoryStateStore::new());
        let causes = Arc::new(CauseLog::default());
        Self {
            endpoints: Arc::new(MemoryEndpointStore::new()),
            state: state.clone(),
            idempotency: state,
            failures: Arc::new(MemoryFailureStore::new()),
            queue: Arc::new(DuplicatingQueue::new(
                deliveries.clone(),
                duplicate_rate,
                seed,
                causes.clone(),
            )),
            dead_letters: dlq.clone(),
            deliveries_inbox: queues.deliveries_inbox,
            dlq_inbox: queues.dlq_inbox,
            clock,
            causes,
            backlog: Backlog::Memory(deliveries, dlq),
        }
    }

    /// Fresh tables and queues named after `prefix` on the API at `config`.
    pub async fn aws(
        config: &SdkConfig,
        prefix: &str,
        tuning: QueueTuning,
        duplicate_rate: f64,
        seed: u64,
    ) -> Result<Self, ChaosError> {
        let dynamo = aws_sdk_dynamodb::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let names = TableNames {
            endpoints: format!("{prefix}-endpoints"),
            state: format!("{prefix}-state"),
            failures: format!("{prefix}-failures"),
        };
        create_tables(&dynamo, &names).await?;
        let (deliveries_url, dlq_url) = create_queues(
            &sqs,
            &format!("{prefix}-deliveries"),
            &format!("{prefix}-dlq"),
            tuning.max_receive_count,
            u32::try_from(tuning.visibility.as_secs().max(1)).unwrap_or(30),
        )
        .await?;
        let state = Arc::new(DynamoStateStore::new(dynamo.clone(), names.state));
        let deliveries = Arc::new(SqsQueue::new(sqs.clone(), deliveries_url.clone()));
        let dlq = Arc::new(SqsQueue::new(sqs.clone(), dlq_url.clone()));
        let causes = Arc::new(CauseLog::default());
        Ok(Self {
            endpoints: Arc::new(DynamoEndpointStore::new(dynamo.clone(), names.endpoints)),
            state: state.clone(),
            idempotency: state,
            failures: Arc::new(DynamoFailureStore::new(dynamo, names.failures)),
            queue: Arc::new(DuplicatingQueue::new(
                deliveries.clone(),
                duplicate_rate,
                seed,
                causes.clone(),
            )),
            dead_letters: dlq.clone(),
            deliveries_inbox: deliveries,
            dlq_inbox: dlq,
            clock: Arc::new(SystemClock),
            causes,
            backlog: Backlog::Sqs(sqs, vec![deliveries_url, dlq_url]),
        })
    }

    /// Messages held by both queues, visible, in flight or delayed.
    pub async fn backlog(&self) -> Result<usize, ChaosError> {
        match &self.backlog {
            Backlog::Memory(deliveries, dlq) => Ok(deliveries.len() + dlq.len()),
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
