//! What local mode runs over: the system in memory (the default) or on an SQS/DynamoDB API,
//! with the tables and queues created on start when missing, and the inboxes its consumers
//! take messages from.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};

use super::inbox::MemoryQueues;
use crate::adapters::dynamodb::{create_tables, TableNames};
use crate::adapters::memory::{MemoryQueue, MemoryStateStore, QueueSettings};
use crate::adapters::sqs::create_all_queues;
use crate::ports::{PortError, QueueConsumer, Sender, SystemClock, SystemEntropy};
use crate::system::{AwsBackend, MemoryBackend, Settings, System};

/// Longer than any claim lease (endpoint timeout ≤ 30 s plus margin), as on AWS.
const VISIBILITY: Duration = Duration::from_secs(60);
const MAX_RECEIVES: u32 = 5;

pub struct Backend {
    pub system: System,
    pub deliveries_inbox: Arc<dyn QueueConsumer>,
    pub ordered_inbox: Arc<dyn QueueConsumer>,
    /// The priority lane's, with consumers of its own.
    pub priority_inbox: Arc<dyn QueueConsumer>,
    /// The DLQs' inboxes: one in memory, the standard and the ordered (FIFO) one on SQS.
    pub dlq_inboxes: Vec<Arc<dyn QueueConsumer>>,
    memory_queues: Vec<Arc<MemoryQueue>>,
    /// The in-memory state store, whose expired records local mode forgets now and then.
    pub memory_state: Option<Arc<MemoryStateStore>>,
}

impl Backend {
    pub async fn new(
        aws_endpoint: Option<&str>,
        sender: Arc<dyn Sender>,
        settings: Settings,
    ) -> Result<Self, PortError> {
        match aws_endpoint {
            None => Ok(Self::memory(sender, settings)),
            Some(url) => Self::aws(url, sender, settings).await,
        }
    }

    fn memory(sender: Arc<dyn Sender>, settings: Settings) -> Self {
        let queue = QueueSettings {
            visibility_timeout: VISIBILITY,
            max_receive_count: Some(MAX_RECEIVES),
        };
        let queues = MemoryQueues::new(Arc::new(SystemClock), queue);
        let backend = MemoryBackend::with_queues(
            queues.deliveries.clone(),
            queues.ordered.clone(),
            queues.priority.clone(),
            queues.dlq.clone(),
        );
        Self {
            memory_state: Some(backend.state.clone()),
            system: backend
                .builder(Arc::new(SystemClock), Arc::new(SystemEntropy), sender)
                .settings(settings)
                .build(),
            deliveries_inbox: queues.deliveries_inbox,
            ordered_inbox: queues.ordered_inbox,
            priority_inbox: queues.priority_inbox,
            dlq_inboxes: vec![queues.dlq_inbox],
            memory_queues: vec![
                queues.deliveries,
                queues.ordered,
                queues.priority,
                queues.dlq,
            ],
        }
    }

    async fn aws(
        endpoint_url: &str,
        sender: Arc<dyn Sender>,
        settings: Settings,
    ) -> Result<Self, PortError> {
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
        let names = TableNames::named(|table| format!("authhooks-dev-{table}"));
        create_tables(&dynamo, &names).await?;
        let urls = create_all_queues(
            &sqs,
            "authhooks-dev",
            MAX_RECEIVES,
            u32::try_from(VISIBILITY.as_secs()).unwrap_or(60),
        )
        .await?;
        let backend = AwsBackend::new(&dynamo, &sqs, &names, &urls);
        Ok(Self {
            system: backend.deployed(sender).settings(settings).build(),
            deliveries_inbox: backend.deliveries,
            ordered_inbox: backend.ordered,
            priority_inbox: backend.priority,
            dlq_inboxes: vec![backend.dlq, backend.ordered_dlq],
            memory_queues: Vec::new(),
            memory_state: None,
        })
    }

    /// Deliveries still queued in memory (0 with a real queue, which keeps them).
    pub fn pending(&self) -> usize {
        self.memory_queues.iter().map(|queue| queue.len()).sum()
    }
}
