//! authhooks' own events through its own pipeline: an endpoint subscribed to `authhooks.*`
//! hears that another's circuit opened and closed, that a delivery was given up on, and
//! that an endpoint was disabled; an endpoint subscribed to `*` hears none of it, and no
//! notice goes to the endpoint it is about.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use authhooks::app::ingest::IngestError;
use authhooks_tests::sender::status;
use authhooks_tests::{Sent, World};

const DAY: Duration = Duration::from_secs(24 * 3600);
const CMS: &str = "http://cms.test/hook";
const OPS: &str = "http://ops.test/hook";
const ALL: &str = "http://all.test/hook";

fn event(id: &str) -> Value {
    json!({"id": id, "type": "user.updated", "data": {"user": {"id": "u_1"}}})
}

fn types(sent: &[Sent]) -> Vec<String> {
    sent.iter()
        .map(|s| {
            let body: Value = serde_json::from_slice(&s.body).unwrap();
            body["type"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn bodies(sent: &[Sent]) -> Vec<Value> {
    sent.iter()
        .map(|s| serde_json::from_slice(&s.body).unwrap())
        .collect()
}

/// A CMS endpoint that fails until told otherwise (circuit after 2 failures, no retries),
/// an operations endpoint on `authhooks.*` and a catch-all on `*`.
async fn world() -> (World, String, Arc<AtomicBool>) {
    let world = World::new();
    let (cms, _) = world
        .add_endpoint(json!({"url": CMS, "event_types": ["user.*"], "ordering": "none",
            "circuit": {"failure_threshold": 2, "success_threshold": 1, "open_timeout_secs": 60},
            "retry": {"initial_delay_ms": 100, "backoff_multiplier": 1.0, "max_delay_ms": 100, "max_retries": 0}}))
        .await;
    world
        .add_endpoint(json!({"url": OPS, "event_types": ["authhooks.*"]}))
        .await;
    world
        .add_endpoint(json!({"url": ALL, "event_types": ["*"]}))
        .await;
    let up = Arc::new(AtomicBool::new(false));
    let cms_up = up.clone();
    world.sender.script(
        CMS,
        Box::new(move |_| {
            status(if cms_up.load(Ordering::SeqCst) {
                200
            } else {
                503
            })
        }),
    );
    world.sender.script(OPS, Box::new(|_| status(200)));
    world.sender.script(ALL, Box::new(|_| status(200)));
    (world, cms.id.to_string(), up)
}

#[tokio::test]
async fn an_operations_endpoint_hears_of_a_circuit_and_deliveries_given_up_on() {
    let (world, cms, up) = world().await;
    for n in 0..2 {
        world.ingest(&event(&format!("evt_{n}"))).await.unwrap();
    }
    world.run_until_idle(Duration::from_secs(1)).await;

    // Two failures: both deliveries given up on (no retries), and the circuit opened.
    let heard = world.sender.sent_to(OPS);
    let mut kinds = types(&heard);
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "authhooks.delivery.exhausted",
            "authhooks.delivery.exhausted",
            "authhooks.endpoint.circuit_opened"
        ],
        "{:?}",
        bodies(&heard)
    );
    for body in bodies(&heard) {
        assert_eq!(body["origin"], "authhooks");
        assert_eq!(body["subject"], cms.as_str());
        assert_eq!(body["data"]["endpoint"]["id"], cms.as_str());
    }
    let exhausted: Vec<Value> = bodies(&heard)
        .into_iter()
        .filter(|b| b["type"] == "authhooks.delivery.exhausted")
        .collect();
    let mut events: Vec<&str> = exhausted
        .iter()
        .map(|b| b["data"]["event"]["id"].as_str().unwrap())
        .collect();
    events.sort();
    assert_eq!(events, ["evt_0", "evt_1"]);
    assert_eq!(exhausted[0]["data"]["last_status"], 503);
    // The catch-all got the two user events and no notice.
    assert_eq!(
        types(&world.sender.sent_to(ALL)),
        ["user.updated", "user.updated"]
    );

    // Back up: after the open timeout a probe succeeds and the circuit closes.
    up.store(true, Ordering::SeqCst);
    world.clock.advance(Duration::from_secs(61));
    world.ingest(&event("evt_2")).await.unwrap();
    world.run_until_idle(DAY).await;
    let closed: Vec<Value> = bodies(&world.sender.sent_to(OPS))
        .into_iter()
        .filter(|b| b["type"] == "authhooks.endpoint.circuit_closed")
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["data"]["endpoint"]["id"], cms.as_str());
    assert!(closed[0]["data"]["open_since"].is_string());
    assert!(world
        .sender
        .sent_to(ALL)
        .iter()
        .all(|s| !types(std::slice::from_ref(s))[0].starts_with("authhooks.")));
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_says_so_and_producers_cannot_forge_a_notice() {
    let (world, cms, _) = world().await;
    world.sender.script(CMS, Box::new(|_| status(410)));
    world.ingest(&event("evt_gone")).await.unwrap();
    world.run_until_idle(DAY).await;
    let disabled: Vec<Value> = bodies(&world.sender.sent_to(OPS))
        .into_iter()
        .filter(|b| b["type"] == "authhooks.endpoint.disabled")
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["data"]["endpoint"]["id"], cms.as_str());
    assert_eq!(disabled[0]["data"]["reason"], "endpoint answered 410 Gone");

    let forged = world
        .ingest(&json!({"type": "authhooks.endpoint.disabled", "data": {}}))
        .await;
    assert!(matches!(forged, Err(IngestError::Invalid(_))), "{forged:?}");
}

#[tokio::test]
async fn a_notice_never_goes_to_the_endpoint_it_is_about() {
    let world = World::new();
    // One endpoint that wants user events and its own kind of notices, and fails.
    world
        .add_endpoint(json!({"url": OPS, "event_types": ["user.*", "authhooks.*"],
            "ordering": "none", "circuit": {"failure_threshold": 1},
            "retry": {"initial_delay_ms": 100, "backoff_multiplier": 1.0, "max_delay_ms": 100, "max_retries": 0}}))
        .await;
    world.sender.script(OPS, Box::new(|_| status(503)));
    world.ingest(&event("evt_self")).await.unwrap();
    world.run_until_idle(DAY).await;
    // Its one delivery failed; nothing about that came back to it.
    assert_eq!(types(&world.sender.sent_to(OPS)), ["user.updated"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_sqs_and_dynamodb_an_operations_endpoint_hears_of_a_410() {
    use authhooks_tests::lambda::AwsPipeline;
    use authhooks_tests::moto::QueueOptions;
    use authhooks_tests::receiver::Reply;
    use authhooks_tests::Receiver;

    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let cms = Receiver::start().await;
    cms.set_reply(|_| Reply::status(410));
    let ops = Receiver::start().await;
    let (cms_id, _) = pipeline
        .add_endpoint(json!({"url": cms.url(), "event_types": ["user.*"]}))
        .await;
    pipeline
        .add_endpoint(json!({"url": ops.url(), "event_types": ["authhooks.*"]}))
        .await;
    let (status, body) = pipeline.post_event(&event("evt_aws_gone")).await;
    assert_eq!(status.as_u16(), 202, "{body}");
    pipeline
        .run_until("both notices", Duration::from_secs(30), || async {
            ops.requests().len() >= 2
        })
        .await;
    let mut heard: Vec<Value> = ops
        .requests()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    heard.sort_by_key(|b| b["type"].as_str().unwrap().to_owned());
    assert_eq!(heard[0]["type"], "authhooks.delivery.exhausted");
    assert_eq!(heard[0]["data"]["event"]["id"], "evt_aws_gone");
    assert_eq!(heard[0]["data"]["reason"], "gone");
    assert_eq!(heard[1]["type"], "authhooks.endpoint.disabled");
    assert_eq!(heard[1]["data"]["endpoint"]["id"], cms_id.as_str());
    assert_eq!(heard.len(), 2, "{heard:?}");
}
