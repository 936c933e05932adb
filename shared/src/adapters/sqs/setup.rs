//! Creates the deliveries queues and their dead-letter queues with the redrive policy, for
//! tests and local mode against any SQS API (on AWS the SAM template makes them): the
//! standard pair, and the ordered (FIFO) pair.

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;

use crate::adapters::dynamodb::error::sdk_error;
use crate::ports::PortError;

/// Fourteen days, SQS's longest retention, for the dead-letter queue.
const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;

type Attributes = Vec<(QueueAttributeName, String)>;

/// Creates the dead-letter queue (14 days' retention) and the deliveries queue, which
/// redrives to it after `max_receive_count` receives; returns (deliveries url, dlq url).
/// Creating a queue that exists with the same attributes is a no-op.
pub async fn create_queues(
    client: &Client,
    deliveries: &str,
    dlq: &str,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<(String, String), PortError> {
    let names = (deliveries, dlq);
    create_pair(
        client,
        names,
        Vec::new(),
        max_receive_count,
        visibility_timeout_secs,
    )
    .await
}

/// Creates the ordered pair: a FIFO deliveries queue and its FIFO dead-letter queue (14
/// days' retention; a FIFO queue can only redrive to one), redriving after
/// `max_receive_count` receives; returns (deliveries url, dlq url). Both names must end in
/// `.fifo`. Deduplication is by explicit id only (a job's failure-record id), scoped to the
/// message group, with throughput per group (SQS's high-throughput FIFO mode): ordered
/// lines are independent, so no queue-wide limit is wanted. Holds count as receives, so the
/// caller picks a high `max_receive_count` and gives up on deliveries itself.
pub async fn create_ordered_queues(
    client: &Client,
    deliveries: &str,
    dlq: &str,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<(String, String), PortError> {
    if let Some(name) = [deliveries, dlq]
        .into_iter()
        .find(|n| !n.ends_with(".fifo"))
    {
        return Err(PortError::Rejected(format!(
            "FIFO queue name {name:?} does not end in .fifo"
        )));
    }
    let fifo = vec![
        (QueueAttributeName::FifoQueue, "true".to_owned()),
        (
            QueueAttributeName::ContentBasedDeduplication,
            "false".to_owned(),
        ),
        (
            QueueAttributeName::DeduplicationScope,
            "messageGroup".to_owned(),
        ),
        (
            QueueAttributeName::FifoThroughputLimit,
            "perMessageGroupId".to_owned(),
        ),
    ];
    let names = (deliveries, dlq);
    create_pair(
        client,
        names,
        fifo,
        max_receive_count,
        visibility_timeout_secs,
    )
    .await
}

async fn create_pair(
    client: &Client,
    (deliveries, dlq): (&str, &str),
    kind: Attributes,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<(String, String), PortError> {
    let mut dlq_attributes = kind.clone();
    dlq_attributes.push((
        QueueAttributeName::MessageRetentionPeriod,
        DLQ_RETENTION_SECS.to_string(),
    ));
    let dlq_url = create(client, dlq, dlq_attributes, "dlq").await?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("GetQueueAttributes", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| missing("the dlq's arn"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receive_count,
    });
    let mut attributes = kind;
    attributes.push((QueueAttributeName::RedrivePolicy, redrive.to_string()));
    attributes.push((
        QueueAttributeName::VisibilityTimeout,
        visibility_timeout_secs.to_string(),
    ));
    let deliveries_url = create(client, deliveries, attributes, "deliveries").await?;
    Ok((deliveries_url, dlq_url))
}

async fn create(
    client: &Client,
    name: &str,
    attributes: Attributes,
    what: &str,
) -> Result<String, PortError> {
    let mut request = client.create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes(key, value);
    }
    request
        .send()
        .await
        .map_err(|e| sdk_error(&format!("CreateQueue {what}"), e))?
        .queue_url
        .ok_or_else(|| missing(&format!("the {what} queue's url")))
}

fn missing(what: &str) -> PortError {
    PortError::Unavailable(format!("SQS answered without {what}"))
}
