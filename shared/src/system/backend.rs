//! The two backends a system is built over: memory (local mode, tests), or DynamoDB tables
//! and SQS queues reached through the clients given (the Lambdas, `dev --aws-endpoint`,
//! the moto tests, the bench with its counting clients).

use std::sync::Arc;

use super::{Ports, SystemBuilder};
use crate::adapters::memory::{
    MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore, QueueSettings,
};
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FailureStore, IdempotencyStore, Sender,
};

/// A backend's stores and queues, kept typed for a harness that pumps or inspects them. One
/// state store serves as the endpoint state and the idempotency store, one queue type as
/// the deliveries queue and the DLQ.
#[derive(Debug)]
pub struct Backend<E, S, F, Q> {
    pub endpoints: Arc<E>,
    pub state: Arc<S>,
    pub failures: Arc<F>,
    pub deliveries: Arc<Q>,
    pub dlq: Arc<Q>,
}

impl<E, S, F, Q> Clone for Backend<E, S, F, Q> {
    fn clone(&self) -> Self {
        Self {
            endpoints: self.endpoints.clone(),
            state: self.state.clone(),
            failures: self.failures.clone(),
            deliveries: self.deliveries.clone(),
            dlq: self.dlq.clone(),
        }
    }
}

impl<E, S, F, Q> Backend<E, S, F, Q>
where
    E: EndpointStore + 'static,
    S: EndpointStateStore + IdempotencyStore + 'static,
    F: FailureStore + 'static,
    Q: DeliveryQueue + DeadLetterQueue + 'static,
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
            queue: self.deliveries.clone(),
            dead_letters: self.dlq.clone(),
            sender,
            clock,
            entropy,
        })
    }
}

pub type MemoryBackend =
    Backend<MemoryEndpointStore, MemoryStateStore, MemoryFailureStore, MemoryQueue>;

impl MemoryBackend {
    /// Fresh stores and a deliveries queue redriving to its DLQ.
    pub fn new(clock: Arc<dyn Clock>, queue: QueueSettings) -> Self {
        let dlq = Arc::new(MemoryQueue::new(clock.clone(), queue));
        let deliveries = Arc::new(MemoryQueue::new(clock, queue).with_dead_letter(dlq.clone()));
        Self::with_queues(deliveries, dlq)
    }

    /// Fresh stores over queues built elsewhere (local mode's wake its consumers).
    pub fn with_queues(deliveries: Arc<MemoryQueue>, dlq: Arc<MemoryQueue>) -> Self {
        Self {
            endpoints: Arc::new(MemoryEndpointStore::new()),
            state: Arc::new(MemoryStateStore::new()),
            failures: Arc::new(MemoryFailureStore::new()),
            deliveries,
            dlq,
        }
    }
}

#[cfg(feature = "aws")]
pub use aws::AwsBackend;

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use super::super::SystemBuilder;
    use super::Backend;
    use crate::adapters::dynamodb::{
        DynamoEndpointStore, DynamoFailureStore, DynamoStateStore, TableNames,
    };
    use crate::adapters::sqs::SqsQueue;
    use crate::ports::{Sender, SystemClock, SystemEntropy};

    pub type AwsBackend =
        Backend<DynamoEndpointStore, DynamoStateStore, DynamoFailureStore, SqsQueue>;

    impl AwsBackend {
        /// `queues`: the deliveries queue's URL and its DLQ's.
        pub fn new(
            dynamo: &aws_sdk_dynamodb::Client,
            sqs: &aws_sdk_sqs::Client,
            tables: &TableNames,
            queues: (&str, &str),
        ) -> Self {
            Self {
                endpoints: Arc::new(DynamoEndpointStore::new(dynamo.clone(), &tables.endpoints)),
                state: Arc::new(DynamoStateStore::new(dynamo.clone(), &tables.state)),
                failures: Arc::new(DynamoFailureStore::new(dynamo.clone(), &tables.failures)),
                deliveries: Arc::new(SqsQueue::new(sqs.clone(), queues.0)),
                dlq: Arc::new(SqsQueue::new(sqs.clone(), queues.1)),
            }
        }

        /// A builder as deployed: the system clock and entropy.
        pub fn deployed(&self, sender: Arc<dyn Sender>) -> SystemBuilder {
            self.builder(Arc::new(SystemClock), Arc::new(SystemEntropy), sender)
        }
    }
}
