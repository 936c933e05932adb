//! Creates the deliveries queue and its dead-letter queue with the redrive policy, for tests
//! and local mode against any SQS API (on AWS the SAM template makes them).

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;

use crate::adapters::dynamodb::error::sdk_error;
use crate::ports::PortError;

/// Fourteen days, SQS's longest retention, for the dead-letter queue.
const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;

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
    let missing = |what: &str| PortError::Unavailable(format!("SQS answered without {what}"));
    let dlq_url = client
        .create_queue()
        .queue_name(dlq)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECS.to_string(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue dlq", e))?
        .queue_url
        .ok_or_else(|| missing("the dlq's url"))?;
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
    let deliveries_url = client
        .create_queue()
        .queue_name(deliveries)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout_secs.to_string(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue deliveries", e))?
        .queue_url
        .ok_or_else(|| missing("the deliveries queue's url"))?;
    Ok((deliveries_url, dlq_url))
}
