//! The adapters' error texts, which the use cases log as `error = %e`: a DynamoDB or SQS
//! error from moto, and the HTTP sender's failures (connection refused, reset), carry no
//! secret, no signature, no URL query and no payload; nor do the lines logged on the way.

use std::time::Duration;

use serde_json::json;

use authhooks::adapters::dynamodb::DynamoEndpointStore;
use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::adapters::sqs::SqsQueue;
use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::webhook;
use authhooks::ports::{DeliveryQueue, EndpointStore, Enqueue, OutgoingRequest, Sender};
use authhooks_tests::moto::Moto;
use authhooks_tests::{reset_server, World};

use super::capture::{captured, secret_forms, signature_values};

const SENTINEL: &str = "payload-sentinel-errors-6a0f";
const QUERY_TOKEN: &str = "query-token-errors-31c7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapter_errors_carry_no_secret_signature_query_or_payload() {
    let logs = captured();
    // A delivery job with the sentinel in its payload, and its endpoint with its secret.
    let world = World::new();
    let (endpoint, secret) = world
        .add_endpoint(json!({"url": "http://cms.test/hook", "event_types": ["*"]}))
        .await;
    world
        .ingest(&json!({"type": "user.created", "data": {"note": SENTINEL}}))
        .await
        .unwrap();
    let job: DeliveryJob = serde_json::from_str(&world.queue.receive(1)[0].body).unwrap();
    let secret = secret.expose().to_owned();
    let mut needles = secret_forms(&secret);
    needles.extend([SENTINEL.to_owned(), QUERY_TOKEN.to_owned()]);
    let mut shown = Vec::new();

    // DynamoDB and SQS, each refusing: a table and a queue that do not exist.
    let moto = Moto::shared();
    let sdk = moto.sdk_config().await;
    let store = DynamoEndpointStore::new(aws_sdk_dynamodb::Client::new(&sdk), "no-such-table");
    let error = store.put(&endpoint).await.unwrap_err();
    shown.push(format!("{error} / {error:?}"));
    let queue = SqsQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        format!("{}/123456789012/no-such-queue", moto.endpoint_url()),
    );
    let enqueue = Enqueue {
        job: job.clone(),
        delay: Duration::ZERO,
    };
    let error = queue.enqueue(vec![enqueue]).await.unwrap_err();
    shown.push(format!("{error} / {error:?}"));

    // The HTTP sender: a port nothing listens on, and a server that resets the connection.
    let sender = HttpSender::new(SenderConfig {
        allow_private: true,
        ..SenderConfig::default()
    })
    .unwrap();
    // The resetting server first: bound after the closed port was let go, it could be given
    // that very port, and the "refused" URL would reach it.
    let resetting = reset_server().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    for url in [refused_url, resetting.url()] {
        let body = job.event.to_body();
        let signed = webhook::Signed {
            id: job.event.id.as_str(),
            event_type: job.event.event_type.as_str(),
        };
        let headers = webhook::headers(&endpoint, signed, 1, &body, world.now(), None);
        let signature = &headers
            .iter()
            .find(|(n, _)| n == "webhook-signature")
            .unwrap()
            .1;
        needles.extend(signature_values(signature));
        let report = sender
            .send(OutgoingRequest {
                url: format!("{url}?token={QUERY_TOKEN}"),
                headers,
                body,
                timeout: Duration::from_secs(5),
            })
            .await;
        shown.push(format!("{:?}", report.result));
    }

    assert!(shown[2].contains("Connect("), "{shown:?}");
    assert!(shown[3].contains("Reset("), "{shown:?}");
    for text in &shown {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{needle:?} in {text}");
        }
    }
    logs.assert_free_of(&needles);
}
