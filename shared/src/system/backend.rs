//! The two backends a system is built over: memory (local mode, tests), or DynamoDB tables
//! and SQS queues reached through the clients given (the Lambdas, `dev --aws-endpoint`,
//! the moto tests, the bench with its counting clients).

use std::sync::Arc;

use super::{Ports, SystemBuilder};
use crate::adapters::memory::{
    MemoryDeliveryLog, MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemorySourceStore,
    MemoryStateStore, QueueSettings,
};
use crate::adapters::queues::Recalls;
use crate::adapters::scripts::SandboxScripts;
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryLog, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FailureStore, FanOutQueue, IdempotencyStore, QueueHold, QueueRecall, Sender, SourceStore,
    ORDERED_MAX_RECEIVES,
};

/// A backend's stores and queues, kept typed for a harness that pumps or inspects them. One
/// state store serves as the endpoint state and the idempotency store, one queue type as
/// the deliveries queues (standard and ordered) and the DLQs.
#[derive(Debug)]
pub struct Backend<E, S, F, Q> {
    pub endpoints: Arc<E>,
    pub state: Arc<S>,
    pub failures: Arc<F>,
    /// The delivery log; behind its port, since no harness needs more of it.
    pub log: Arc<dyn DeliveryLog>,
    /// Inbound sources and their failed requests; behind the port, as the log is.
    pub sources: Arc<dyn SourceStore>,
    pub deliveries: Arc<Q>,
    /// The ordered deliveries queue (FIFO, a group per endpoint and subject).
    pub ordered: Arc<Q>,
    /// The priority lane's deliveries queue (standard), redriving to `dlq`.
    pub priority: Arc<Q>,
    /// Where the worker's dead letters go, and the standard queues' redrive.
    pub dlq: Arc<Q>,
    /// The ordered queue's redrive (a FIFO queue's DLQ must be FIFO too); the same queue as
    /// `dlq` in memory.
    pub ordered_dlq: Arc<Q>,
}

impl<E, S, F, Q> Clone for Backend<E, S, F, Q> {
    fn clone(&self) -> Self {
        Self {
            endpoints: self.endpoints.clone(),
            state: self.state.clone(),
            failures: self.failures.clone(),
            log: self.log.clone(),
            sources: self.sources.clone(),
            deliveries: self.deliveries.clone(),
            ordered: self.ordered.clone(),
            priority: self.priority.clone(),
            dlq: self.dlq.clone(),
            ordered_dlq: self.ordered_dlq.clone(),
        }
    }
}

impl<E, S, F, Q> Backend<E, S, F, Q>
where
    E: EndpointStore + 'static,
    S: EndpointStateStore + IdempotencyStore + 'static,
    F: FailureStore + 'static,
    Q: DeliveryQueue + DeadLetterQueue + FanOutQueue + QueueHold + QueueRecall + 'static,
{
    /// A builder over these stores and queues, on the clock, chance and network given.
    pub fn builder(
        &self,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        sender: Arc<dyn Sender>,
    ) -> SystemBuilder {
        SystemBuilder::new(Ports {
            endpoints: self.endpoints.clone(),
            state: self.state.clone(),
            idempotency: self.state.clone(),
            failures: self.failures.clone(),
            log: self.log.clone(),
            queue: self.deliveries.clone(),
            ordered_queue: self.ordered.clone(),
            holds: self.ordered.clone(),
            priority_queue: self.priority.clone(),
            fan_out: self.deliveries.clone(),
            ordered_fan_out: self.ordered.clone(),
            priority_fan_out: self.priority.clone(),
            recall: Arc::new(Recalls(vec![
                self.deliveries.clone(),
                self.ordered.clone(),
                self.priority.clone(),
            ])),
            dead_letters: self.dlq.clone(),
            sources: self.sources.clone(),
            // Each system its own sandbox: its threads start on its first script.
            scripts: Arc::new(SandboxScripts::new(authhooks_sandbox::Limits::default())),
            sender,
            clock,
            entropy,
        })
    }
}

pub type MemoryBackend =
    Backend<MemoryEndpointStore, MemoryStateStore, MemoryFailureStore, MemoryQueue>;

impl MemoryBackend {
    /// Fresh stores, and the deliveries queues redriving to one DLQ: the standard and
    /// priority queues after `queue`'s receive limit, the ordered one after
    /// [`ORDERED_MAX_RECEIVES`].
    pub fn new(clock: Arc<dyn Clock>, queue: QueueSettings) -> Self {
        let dlq = Arc::new(MemoryQueue::new(clock.clone(), queue));
        let standard =
            || Arc::new(MemoryQueue::new(clock.clone(), queue).with_dead_letter(dlq.clone()));
        let (deliveries, priority) = (standard(), standard());
        let ordered = Arc::new(
            MemoryQueue::fifo(clock.clone(), ordered_settings(queue)).with_dead_letter(dlq.clone()),
        );
        Self::with_queues(deliveries, ordered, priority, dlq)
    }

    /// Fresh stores over queues built elsewhere (local mode's wake its consumers).
    pub fn with_queues(
        deliveries: Arc<MemoryQueue>,
        ordered: Arc<MemoryQueue>,
        priority: Arc<MemoryQueue>,
        dlq: Arc<MemoryQueue>,
    ) -> Self {
        Self {
            endpoints: Arc::new(MemoryEndpointStore::new()),
            state: Arc::new(MemoryStateStore::new()),
            failures: Arc::new(MemoryFailureStore::new()),
            log: Arc::new(MemoryDeliveryLog::new()),
            sources: Arc::new(MemorySourceStore::new()),
            deliveries,
            ordered,
            priority,
            ordered_dlq: dlq.clone(),
            dlq,
        }
    }
}

/// The ordered queue's settings from the standard one's: the same visibility, and a receive
/// limit high enough for holds, which count as receives (the worker gives up by itself).
pub fn ordered_settings(queue: QueueSettings) -> QueueSettings {
    QueueSettings {
        max_receive_count: queue.max_receive_count.map(|_| ORDERED_MAX_RECEIVES),
        ..queue
    }
}

#[cfg(feature = "aws")]
pub use aws::{AwsBackend, QueueUrls};

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use super::super::SystemBuilder;
    use super::Backend;
    use crate::adapters::dynamodb::{
        DynamoDeliveryLog, DynamoEndpointStore, DynamoFailureStore, DynamoSourceStore,
        DynamoStateStore, TableNames,
    };
    pub use crate::adapters::sqs::QueueUrls;
    use crate::adapters::sqs::SqsQueue;
    use crate::ports::{Sender, SystemClock, SystemEntropy};

    pub type AwsBackend =
        Backend<DynamoEndpointStore, DynamoStateStore, DynamoFailureStore, SqsQueue>;

    impl AwsBackend {
        pub fn new(
            dynamo: &aws_sdk_dynamodb::Client,
            sqs: &aws_sdk_sqs::Client,
            tables: &TableNames,
            queues: &QueueUrls,
        ) -> Self {
            let queue = |url: &str| Arc::new(SqsQueue::new(sqs.clone(), url));
            Self {
                endpoints: Arc::new(DynamoEndpointStore::new(dynamo.clone(), &tables.endpoints)),
                state: Arc::new(DynamoStateStore::new(dynamo.clone(), &tables.state)),
                failures: Arc::new(DynamoFailureStore::new(dynamo.clone(), &tables.failures)),
                log: Arc::new(DynamoDeliveryLog::new(dynamo.clone(), &tables.delivery_log)),
                sources: Arc::new(DynamoSourceStore::new(dynamo.clone(), &tables.sources)),
                deliveries: queue(&queues.deliveries),
                ordered: queue(&queues.ordered),
                priority: queue(&queues.priority),
                dlq: queue(&queues.dlq),
                ordered_dlq: queue(&queues.ordered_dlq),
            }
        }

        /// A builder as deployed: the system clock and entropy.
        pub fn deployed(&self, sender: Arc<dyn Sender>) -> SystemBuilder {
            self.builder(Arc::new(SystemClock), Arc::new(SystemEntropy), sender)
        }
    }
}
