//! The ordered queues on moto: created FIFO, high-throughput, deduplicating by explicit id
//! per group, redriving to a FIFO dead-letter queue; an ordered job crosses with its order
//! key as MessageGroupId and its failure-record id as MessageDeduplicationId.

use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use authhooks::adapters::sqs::{create_ordered_queues, SqsQueue};
use authhooks::domain::delivery::FailureRecord;
use authhooks::ports::{DeliveryQueue, PortError};
use authhooks_tests::moto::Moto;

use super::{now, ordered};

async fn attributes(sqs: &aws_sdk_sqs::Client, url: &str) -> HashMap<QueueAttributeName, String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default()
}

#[tokio::test]
async fn the_ordered_pair_is_fifo_with_a_fifo_dlq_and_jobs_carry_their_group() {
    let sqs = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await);
    let (deliveries, dlq) = create_ordered_queues(
        &sqs,
        &format!("{}.fifo", Moto::unique("ordered")),
        &format!("{}.fifo", Moto::unique("ordered-dlq")),
        1000,
        45,
    )
    .await
    .unwrap();
    assert!(deliveries.ends_with(".fifo") && dlq.ends_with(".fifo"));
    assert!(SqsQueue::new(sqs.clone(), &deliveries).is_fifo());

    let queue = attributes(&sqs, &deliveries).await;
    let get = |a: &HashMap<_, String>, k| a.get(&k).cloned().unwrap_or_default();
    assert_eq!(get(&queue, QueueAttributeName::FifoQueue), "true");
    assert_eq!(
        get(&queue, QueueAttributeName::ContentBasedDeduplication),
        "false"
    );
    assert_eq!(
        get(&queue, QueueAttributeName::DeduplicationScope),
        "messageGroup"
    );
    assert_eq!(
        get(&queue, QueueAttributeName::FifoThroughputLimit),
        "perMessageGroupId"
    );
    assert_eq!(get(&queue, QueueAttributeName::VisibilityTimeout), "45");
    let redrive: serde_json::Value =
        serde_json::from_str(&get(&queue, QueueAttributeName::RedrivePolicy)).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 1000);
    let dead = attributes(&sqs, &dlq).await;
    assert_eq!(
        redrive["deadLetterTargetArn"].as_str(),
        dead.get(&QueueAttributeName::QueueArn).map(String::as_str)
    );
    assert_eq!(get(&dead, QueueAttributeName::FifoQueue), "true");
    assert_eq!(
        get(&dead, QueueAttributeName::MessageRetentionPeriod),
        (14 * 24 * 3600).to_string()
    );

    let job = ordered("u1", "u");
    let queue = SqsQueue::new(sqs.clone(), &deliveries);
    queue.enqueue(vec![now(&job)]).await.unwrap();
    let received = sqs
        .receive_message()
        .queue_url(&deliveries)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1);
    let sent = received[0].attributes.clone().unwrap_or_default();
    let key = job.order_key.clone().map(|k| k.to_string());
    assert_eq!(
        sent.get(&MessageSystemAttributeName::MessageGroupId),
        key.as_ref()
    );
    assert_eq!(
        sent.get(&MessageSystemAttributeName::MessageDeduplicationId),
        Some(&FailureRecord::id_for(&job))
    );
}

#[tokio::test]
async fn ordered_queue_names_must_end_in_fifo() {
    let sqs = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await);
    let result = create_ordered_queues(
        &sqs,
        &Moto::unique("ordered"),
        &format!("{}.fifo", Moto::unique("ordered-dlq")),
        1000,
        30,
    )
    .await;
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");
}
