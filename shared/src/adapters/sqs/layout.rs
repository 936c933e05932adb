//! The five queues of a deployment by name, created together for local mode, the tests and
//! the bench (on AWS the SAM template makes them).

use aws_sdk_sqs::Client;

use super::setup::{create_ordered_queues, create_queues};
use crate::ports::{PortError, ORDERED_MAX_RECEIVES};

/// The five queues' URLs (as the Lambdas' environment names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub deliveries: String,
    pub ordered: String,
    /// The priority lane (standard, redriving to `dlq`).
    pub priority: String,
    pub dlq: String,
    pub ordered_dlq: String,
}

impl QueueUrls {
    /// Every URL, for a harness that counts what the queues hold.
    pub fn all(&self) -> [&str; 5] {
        [
            &self.deliveries,
            &self.ordered,
            &self.priority,
            &self.dlq,
            &self.ordered_dlq,
        ]
    }
}

/// Creates `{prefix}-deliveries` (redriving after `max_receive_count` receives) and its
/// `{prefix}-dlq`, `{prefix}-priority` redriving to the same DLQ, and the ordered pair `{prefix}-ordered.fifo` (redriving after
/// [`ORDERED_MAX_RECEIVES`]) and `{prefix}-ordered-dlq.fifo`, all with the visibility timeout
/// given. Creating queues that exist with the same attributes is a no-op.
pub async fn create_all_queues(
    client: &Client,
    prefix: &str,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<QueueUrls, PortError> {
    let (deliveries, dlq) = create_queues(
        client,
        &format!("{prefix}-deliveries"),
        &format!("{prefix}-dlq"),
        max_receive_count,
        visibility_timeout_secs,
    )
    .await?;
    // The same DLQ again: creating an existing queue with the same attributes is a no-op.
    let (priority, _) = create_queues(
        client,
        &format!("{prefix}-priority"),
        &format!("{prefix}-dlq"),
        max_receive_count,
        visibility_timeout_secs,
    )
    .await?;
    let (ordered, ordered_dlq) = create_ordered_queues(
        client,
        &format!("{prefix}-ordered.fifo"),
        &format!("{prefix}-ordered-dlq.fifo"),
        ORDERED_MAX_RECEIVES,
        visibility_timeout_secs,
    )
    .await?;
    Ok(QueueUrls {
        deliveries,
        ordered,
        priority,
        dlq,
        ordered_dlq,
    })
}
