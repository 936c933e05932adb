//! The priority lane: revocations travel on a queue of their own, with consumers of their
//! own, so a backlog of bulk events never stands in front of them — in memory (which queue
//! a job lands on, retries included), in local mode over HTTP (a revocation overtakes a
//! backlog), and over SQS on moto.

use std::time::Duration;

use serde_json::{json, Value};

use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::local::LocalServer;
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::receiver::Reply;
use authhooks_tests::sender::status;
use authhooks_tests::{Receiver, World};

const ADMIN_TOKEN: &str = "priority-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn event(id: &str, event_type: &str) -> Value {
    json!({"id": id, "type": event_type, "subject": "u_1", "data": {"user": {"id": "u_1"}}})
}

#[tokio::test]
async fn revocations_take_the_priority_queue_unless_their_endpoint_orders_by_subject() {
    let world = World::new();
    world
        .add_endpoint(
            json!({"url": "http://a.test/hook", "event_types": ["*"], "ordering": "none"}),
        )
        .await;
    world.sender.script(
        "http://a.test/hook",
        Box::new(|n| status(if n == 1 { 503 } else { 200 })),
    );
    world
        .ingest(&event("evt_revoke", "session.revoked"))
        .await
        .unwrap();
    assert_eq!((world.queue.len(), world.priority.len()), (0, 1));

    // The revocation's first attempt fails (503): its retry stays on the lane.
    world.step().await;
    assert_eq!(
        (world.queue.len(), world.priority.len()),
        (0, 1),
        "the retry left the priority lane"
    );
    world
        .ingest(&event("evt_bulk", "user.updated"))
        .await
        .unwrap();
    assert_eq!((world.queue.len(), world.priority.len()), (1, 1));
    world.run_until_idle(Duration::from_secs(3600)).await;
    let delivered: Vec<String> = world
        .sender
        .sent()
        .iter()
        .filter(|s| {
            matches!(
                s.result,
                authhooks::domain::outcome::AttemptResult::Response { status: 200, .. }
            )
        })
        .map(|s| s.header("webhook-id").unwrap().to_owned())
        .collect();
    assert!(
        delivered.contains(&"evt_revoke".to_owned()),
        "{delivered:?}"
    );

    // An ordered endpoint keeps its subject's line: order beats priority there.
    let ordered = World::new();
    ordered
        .add_endpoint(
            json!({"url": "http://b.test/hook", "event_types": ["*"], "ordering": "subject"}),
        )
        .await;
    ordered
        .ingest(&event("evt_revoke", "session.revoked"))
        .await
        .unwrap();
    assert_eq!((ordered.ordered.len(), ordered.priority.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_local_mode_a_revocation_overtakes_a_backlog_of_bulk_deliveries() {
    const BULK: usize = 1_000;
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    // The bulk endpoint answers in 20 ms: with ten attempts in flight, 1 000 deliveries
    // take two seconds at the least.
    let bulk = Receiver::start().await;
    bulk.set_reply(|_| Reply::status(200).after(Duration::from_millis(20)));
    let security = Receiver::start().await;
    for (receiver, types) in [
        (&bulk, json!(["user.*"])),
        (&security, json!(["session.*"])),
    ] {
        local
            .create_endpoint(
                &json!({"url": receiver.url(), "event_types": types, "ordering": "none"}),
            )
            .await;
    }
    for batch in 0..BULK / 100 {
        let events: Vec<Value> = (0..100)
            .map(|n| event(&format!("evt_bulk_{batch}_{n}"), "user.updated"))
            .collect();
        let (status, answer, _) = local
            .ingest(json!({"events": events}).to_string().as_bytes())
            .await;
        assert_eq!(status, 202, "{answer}");
    }
    let (status, _, _) = local
        .ingest(
            event("evt_revoke", "session.revoked")
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    security.wait_for(1, Duration::from_secs(30)).await;
    let behind = bulk.requests().len();
    assert!(
        behind < BULK / 2,
        "the revocation arrived only after {behind} of {BULK} bulk deliveries"
    );
    // And the bulk still all arrives.
    bulk.wait_for(BULK, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_sqs_a_revocation_travels_on_the_priority_queue() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"], "ordering": "none"}))
        .await;
    let (status, body) = pipeline
        .post_event(&event("evt_aws_revoke", "user.banned"))
        .await;
    assert_eq!(status.as_u16(), 202, "{body}");
    // Only the lane's event source sees it.
    assert_eq!(pipeline.pump_worker(&pipeline.worker, 0).await, 0);
    assert_eq!(pipeline.pump_priority(&pipeline.worker, 1).await, 1);
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].header("webhook-id"), Some("evt_aws_revoke"));
}
