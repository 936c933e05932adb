//! Names are not resolved when an endpoint is created (docs/fuzzing.md says why): a name
//! that resolves only to a refused address is stopped at delivery time by the HTTP sender's
//! resolver. This proves it end to end under the deployment policy: the delivery is given
//! up as `forbidden`, recorded as a failure, and the loopback receiver sees nothing.

use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::local::pump::received;
use authhooks::ports::{EndpointStore, FailureStore, PageRequest};
use authhooks_tests::{Receiver, World};
use serde_json::json;

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_at_delivery_and_recorded_as_forbidden() {
    let world = World::new();
    let receiver = Receiver::start().await;
    // `localhost` is resolved by the system resolver like any other name, and resolves to
    // loopback everywhere, CI included. Creation would refuse it by name, so the endpoint is
    // stored directly: exactly the situation of any name whose DNS points inward.
    let (mut endpoint, _) = world
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"]}))
        .await;
    endpoint.url = format!("http://localhost:{}/hook", receiver.port())
        .try_into()
        .unwrap();
    world.endpoints.put(&endpoint).await.unwrap();
    let deployment = HttpSender::new(SenderConfig {
        allow_private: false,
        ..Default::default()
    })
    .unwrap();

    let accepted = world
        .ingest(&json!({"type": "user.created", "data": {"user_id": "u_1"}}))
        .await
        .unwrap();
    assert_eq!(accepted[0].deliveries, 1);
    let worker = world
        .builder()
        .with(|ports| ports.sender = std::sync::Arc::new(deployment))
        .build()
        .worker;
    let batch = world.queue.receive(10);
    assert_eq!(batch.len(), 1);
    let report = worker.deliver(received(&batch)).await;
    assert!(
        report.failed.is_empty(),
        "a forbidden destination is not retried"
    );
    for message in &batch {
        world.queue.delete(&message.receipt_handle);
    }
    let letters = world.dlq.receive(10);
    assert_eq!(letters.len(), 1, "the delivery was given up");
    world.system.recorder.record(received(&letters)).await;

    let failures = world
        .failures
        .list(&Default::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(failures.items.len(), 1);
    let failure = &failures.items[0];
    assert_eq!(failure.reason.as_str(), "forbidden");
    let error = failure.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("localhost resolves only to a loopback address"),
        "{error}"
    );
    assert_eq!(
        receiver.requests().len(),
        0,
        "the loopback receiver was reached"
    );
}
