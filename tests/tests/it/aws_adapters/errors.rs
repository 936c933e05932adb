//! Errors from a real API map onto `PortError` by whether retrying can help.

use authhooks::adapters::dynamodb::DynamoEndpointStore;
use authhooks::adapters::sqs::SqsQueue;
use authhooks::ports::{DeliveryQueue, EndpointStore, Enqueue, PortError};
use authhooks_tests::moto::Moto;

use super::{endpoint_id, job};

#[tokio::test]
async fn a_missing_table_or_queue_is_rejected() {
    let config = Moto::shared().sdk_config().await;
    let store = DynamoEndpointStore::new(aws_sdk_dynamodb::Client::new(&config), "no-such-table");
    let result = store.get(&endpoint_id("ep_a")).await;
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");

    let url = format!(
        "{}/123456789012/no-such-queue",
        Moto::shared().endpoint_url()
    );
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&config), url);
    let jobs = vec![Enqueue {
        job: job("evt_1", "ep_a"),
        delay: std::time::Duration::ZERO,
    }];
    let result = queue.enqueue(jobs).await;
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let config = Moto::shared().sdk_config().await;
    // Nothing listens on port 9 (discard) here; the connection is refused at once.
    let unreachable = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let store = DynamoEndpointStore::new(
        aws_sdk_dynamodb::Client::from_conf(unreachable),
        "endpoints",
    );
    let result = store.get(&endpoint_id("ep_a")).await;
    assert!(
        matches!(result, Err(PortError::Unavailable(_))),
        "{result:?}"
    );
}
