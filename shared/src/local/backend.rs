//! The adapters local mode runs over: memory (the default) or an SQS/DynamoDB API, with
//! the tables and queues created on start when missing.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use tokio::sync::watch;

use super::inbox::{Inbox, MemoryQueues};
use super::pump::{self, WorkerParts};
use crate::adapters::dynamodb::{
    create_tables, DynamoEndpointStore, DynamoFailureStore, DynamoStateStore, TableNames,
};
use crate::adapters::memory::{
    MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore, QueueSettings,
};
use crate::adapters::sqs::{create_queues, SqsQueue};
use crate::api::Services;
use crate::app::deliver::WorkerSettings;
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FailureStore, IdempotencyStore, PortError, Sender, SystemClock, SystemEntropy,
};

/// Longer than any claim lease (endpoint timeout ≤ 30 s plus margin), as on AWS.
const VISIBILITY: Duration = Duration::from_secs(60);
const MAX_RECEIVES: u32 = 5;

pub struct Backend {
    endpoints: Arc<dyn EndpointStore>,
    state: Arc<dyn EndpointStateStore>,
    idempotency: Arc<dyn IdempotencyStore>,
    failures: Arc<dyn FailureStore>,
    queue: Arc<dyn DeliveryQueue>,
    dead_letters: Arc<dyn DeadLetterQueue>,
    deliveries_inbox: Arc<dyn Inbox>,
    dlq_inbox: Arc<dyn Inbox>,
    memory_queues: Option<(Arc<MemoryQueue>, Arc<MemoryQueue>)>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl Backend {
    pub async fn new(aws_endpoint: Option<&str>) -> Result<Self, PortError> {
        match aws_endpoint {
            None => Ok(Self::memory()),
            Some(url) => Self::aws(url).await,
        }
    }

    fn memory() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let settings = QueueSettings {
            visibility_timeout: VISIBILITY,
            max_receive_count: Some(MAX_RECEIVES),
        };
        let queues = MemoryQueues::new(clock.clone(), settings);
        let (deliveries, dlq) = (queues.deliveries, queues.dlq);
        let state = Arc::new(MemoryStateStore::new());
        Self {
            endpoints: Arc::new(MemoryEndpointStore::new()),
            state: state.clone(),
            idempotency: state,
            failures: Arc::new(MemoryFailureStore::new()),
            queue: deliveries.clone(),
            dead_letters: dlq.clone(),
            deliveries_inbox: queues.deliveries_inbox,
            dlq_inbox: queues.dlq_inbox,
            memory_queues: Some((deliveries, dlq)),
            clock,
            entropy: Arc::new(SystemEntropy),
        }
    }

    async fn aws(endpoint_url: &str) -> Result<Self, PortError> {
        // The default credential chain; a local API such as moto accepts any credentials,
        // and a region is needed to sign at all.
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint_url);
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            loader = loader.region(Region::new("us-east-1"));
        }
        let sdk = loader.load().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let names = TableNames {
            endpoints: "authhooks-dev-endpoints".into(),
            state: "authhooks-dev-state".into(),
            failures: "authhooks-dev-failures".into(),
        };
        create_tables(&dynamo, &names).await?;
        let (deliveries_url, dlq_url) = create_queues(
            &sqs,
            "authhooks-dev-deliveries",
            "authhooks-dev-deliveries-dlq",
            MAX_RECEIVES,
            u32::try_from(VISIBILITY.as_secs()).unwrap_or(60),
        )
        .await?;
        let state = Arc::new(DynamoStateStore::new(dynamo.clone(), names.state));
        let deliveries = Arc::new(SqsQueue::new(sqs.clone(), deliveries_url));
        let dlq = Arc::new(SqsQueue::new(sqs, dlq_url));
        Ok(Self {
            endpoints: Arc::new(DynamoEndpointStore::new(dynamo.clone(), names.endpoints)),
            state: state.clone(),
            idempotency: state,
            failures: Arc::new(DynamoFailureStore::new(dynamo, names.failures)),
            queue: deliveries.clone(),
            dead_letters: dlq.clone(),
            deliveries_inbox: deliveries,
            dlq_inbox: dlq,
            memory_queues: None,
            clock: Arc::new(SystemClock),
            entropy: Arc::new(SystemEntropy),
        })
    }

    pub fn services(&self) -> Services {
        Services {
            endpoints: self.endpoints.clone(),
            idempotency: self.idempotency.clone(),
            failures: self.failures.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            entropy: self.entropy.clone(),
        }
    }

    pub fn worker_parts(&self, sender: Arc<dyn Sender>, settings: WorkerSettings) -> WorkerParts {
        WorkerParts {
            inbox: self.deliveries_inbox.clone(),
            endpoints: self.endpoints.clone(),
            state: self.state.clone(),
            idempotency: self.idempotency.clone(),
            queue: self.queue.clone(),
            dead_letters: self.dead_letters.clone(),
            sender,
            clock: self.clock.clone(),
            entropy: self.entropy.clone(),
            settings,
        }
    }

    pub fn run_recorder(
        &self,
        stop: watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        pump::run_recorder(
            self.dlq_inbox.clone(),
            self.failures.clone(),
            self.clock.clone(),
            self.entropy.clone(),
            stop,
        )
    }

    /// Deliveries still queued in memory (0 with a real queue, which keeps them).
    pub fn pending(&self) -> usize {
        self.memory_queues
            .as_ref()
            .map_or(0, |(deliveries, dlq)| deliveries.len() + dlq.len())
    }
}
