//! Endpoints' transformations (§3.17): the body reshaped and headers added before signing
//! (the signature covers what is sent), a delivery dropped on the script's say, a failing
//! script given up on at once and replayed once fixed, the same body on every retry, a
//! batch of transformed events; refused where it does not compile and in the portal; over
//! SQS with the reference verifiers.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::ports::{FailureFilter, PageRequest};
use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::oracle::{verify_with_python, verify_with_python_at};
use authhooks_tests::receiver::Receiver;
use authhooks_tests::sender::status;
use authhooks_tests::World;

const CHAT: &str = "http://chat.test/hook";

/// A chat receiver that wants `{"text"}` and a channel header; session events it does not
/// want at all.
const TO_CHAT: &str = r##"
function handler(webhook) {
  if (webhook.event_type.startsWith("session.")) return { ...webhook, cancel: true };
  const user = webhook.payload.data.user;
  webhook.payload = { text: `${webhook.event_type}: ${user.name} (${user.id})`, at: new Date().toISOString() };
  webhook.headers = { "x-channel": "#identity" };
  return webhook;
}
"##;

fn user_event(id: &str, kind: &str) -> Value {
    json!({"id": id, "type": kind, "subject": "u_1", "data": {"user": {"id": "u_1", "name": "Ada"}}})
}

async fn world(transform: &str, extra: Value) -> (World, authhooks::domain::signature::Secret) {
    let world = World::new();
    let mut spec = json!({"url": CHAT, "event_types": ["*"], "transform": transform,
        "headers": {"x-channel": "fixed", "x-team": "identity"}});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    let (_, secret) = world.add_endpoint(spec).await;
    (world, secret)
}

#[tokio::test]
async fn the_body_is_reshaped_and_headers_added_and_the_signature_covers_what_is_sent() {
    let (world, secret) = world(TO_CHAT, json!({})).await;
    world.sender.script(CHAT, Box::new(|_| status(200)));
    world
        .ingest(&user_event("evt_t1", "user.updated"))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;

    let sent = world.sender.sent_to(CHAT);
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    // The script's clock is the event's time: 2026-11-22T10:00:00Z in this world.
    assert_eq!(
        body,
        json!({"text": "user.updated: Ada (u_1)", "at": "2026-11-22T10:00:00.000Z"})
    );
    // The script's value wins over the endpoint's fixed one; the endpoint's others stay.
    assert_eq!(sent[0].header("x-channel"), Some("#identity"));
    assert_eq!(
        sent[0]
            .headers
            .iter()
            .filter(|(n, _)| n == "x-channel")
            .count(),
        1
    );
    assert_eq!(sent[0].header("x-team"), Some("identity"));
    assert_eq!(sent[0].header("webhook-id"), Some("evt_t1"));
    verify_with_python_at(&secret.expose(), &[sent[0].recorded()], world.now()).unwrap();
}

#[tokio::test]
async fn a_cancelled_delivery_sends_nothing_and_is_done() {
    let (world, _) = world(TO_CHAT, json!({})).await;
    world.sender.script(CHAT, Box::new(|_| status(200)));
    world
        .ingest(&user_event("evt_s1", "session.created"))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;
    assert!(world.sender.sent_to(CHAT).is_empty());
    // Done, not pending: the same event again is a duplicate.
    let again = world
        .ingest(&user_event("evt_s1", "session.created"))
        .await
        .unwrap();
    assert!(again[0].duplicate, "{again:?}");
    let failures = world
        .system
        .admin
        .list_failures(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(failures.items.is_empty());
}

#[tokio::test]
async fn a_failing_transformation_is_given_up_at_once_and_replays_once_fixed() {
    let broken =
        "function handler(webhook) { return { payload: webhook.payload.data.missing.field }; }";
    let (world, _) = world(broken, json!({"circuit": {"failure_threshold": 1}})).await;
    world.sender.script(CHAT, Box::new(|_| status(200)));
    world
        .ingest(&user_event("evt_f1", "user.updated"))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;
    assert!(world.sender.sent_to(CHAT).is_empty());

    let failures = world
        .system
        .admin
        .list_failures(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(failures.items.len(), 1);
    let failure = &failures.items[0];
    assert_eq!(failure.reason.as_str(), "transform_failed");
    assert_eq!(failure.attempts, 1, "no retries: {failure:?}");
    let error = failure.last_error.as_deref().unwrap();
    assert!(
        error.starts_with("transformation failed: the script threw"),
        "{error}"
    );

    // The receiver was never called, so its circuit (threshold 1) stays closed: another
    // event, once the script is fixed, goes straight out; and so does the replay.
    let endpoint = world
        .system
        .admin
        .list_endpoints(PageRequest::first(1))
        .await
        .unwrap()
        .items[0]
        .id
        .to_string();
    world
        .system
        .admin
        .update_endpoint(&endpoint, &json!({"transform": TO_CHAT}))
        .await
        .unwrap();
    world
        .system
        .admin
        .replay_failure(&failure.id)
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;
    let sent = world.sender.sent_to(CHAT);
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["text"], "user.updated: Ada (u_1)");
}

#[tokio::test]
async fn every_retry_sends_the_body_the_first_attempt_did() {
    let (world, _) = world(
        TO_CHAT,
        json!({"retry": {"initial_delay_ms": 1000, "backoff_multiplier": 1.0,
        "max_delay_ms": 1000, "max_retries": 3}}),
    )
    .await;
    world
        .sender
        .script(CHAT, Box::new(|n| status(if n < 3 { 503 } else { 200 })));
    world
        .ingest(&user_event("evt_r1", "user.updated"))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(120)).await;
    let sent = world.sender.sent_to(CHAT);
    assert_eq!(sent.len(), 3, "two failures and the success");
    assert!(sent[1].at > sent[0].at);
    assert!(
        sent.iter().all(|s| s.body == sent[0].body),
        "{:?}",
        sent.iter()
            .map(|s| String::from_utf8_lossy(&s.body).into_owned())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_batch_carries_each_event_transformed_and_leaves_the_cancelled_out() {
    let (world, _) = world(
        TO_CHAT,
        json!({"ordering": "none", "batch": {"max_events": 3, "max_wait_ms": 0}}),
    )
    .await;
    world.sender.script(CHAT, Box::new(|_| status(200)));
    world
        .ingest(&json!({"events": [user_event("evt_b1", "user.updated"), user_event("evt_b2", "session.revoked"),
                                   user_event("evt_b3", "user.created")]}))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;
    let sent = world.sender.sent_to(CHAT);
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    let texts: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["user.updated: Ada (u_1)", "user.created: Ada (u_1)"]
    );
}

#[tokio::test]
async fn a_transformation_that_cannot_run_is_refused_and_tenants_cannot_set_one() {
    let world = World::new();
    for (transform, expect) in [
        (json!("function handler( {"), "does not compile"),
        (json!("function transform() {}"), "no `function handler"),
        (json!(""), "non-empty"),
        (json!(42), "string"),
    ] {
        let body = json!({"url": CHAT, "event_types": ["*"], "transform": transform});
        let errors = match world.system.admin.create_endpoint(&body).await {
            Err(authhooks::app::admin::AdminError::Invalid(errors)) => errors,
            other => panic!("{transform}: {other:?}"),
        };
        assert_eq!(errors[0].field, "transform");
        assert!(errors[0].message.contains(expect), "{errors:?}");
    }
    assert!(world
        .system
        .admin
        .list_endpoints(PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    let tenant = world
        .system
        .admin
        .create_tenant_endpoint(
            "acme",
            &json!({"url": CHAT, "event_types": ["*"], "transform": TO_CHAT}),
        )
        .await;
    assert!(
        matches!(tenant, Err(authhooks::app::admin::AdminError::Invalid(e)) if e[0].field == "transform")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_sqs_a_transformed_delivery_verifies_with_the_reference_libraries() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    let (status, created) = pipeline
        .admin(
            "POST",
            "/v1/endpoints",
            Some(json!({"url": receiver.url(), "event_types": ["user.*"],
            "ordering": "none", "transform": TO_CHAT})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["transform"], TO_CHAT);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let (status, body) = pipeline
        .post_event(&user_event("evt_aws_t1", "user.created"))
        .await;
    assert_eq!(status.as_u16(), 202, "{body}");
    pipeline
        .run_until(
            "the transformed delivery",
            Duration::from_secs(20),
            || async { !receiver.requests().is_empty() },
        )
        .await;
    let requests = receiver.requests();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["text"], "user.created: Ada (u_1)");
    verify_with_python(&secret, &requests).unwrap();
}

#[tokio::test]
async fn a_batch_retried_without_the_events_its_transformation_cancelled_keeps_its_id() {
    let (world, _) = world(
        TO_CHAT,
        json!({"ordering": "none", "batch": {"max_events": 3, "max_wait_ms": 0},
               "retry": {"initial_delay_ms": 1000, "backoff_multiplier": 1.0, "max_delay_ms": 1000, "max_retries": 2}}),
    )
    .await;
    world
        .sender
        .script(CHAT, Box::new(|n| status(if n < 2 { 503 } else { 200 })));
    world
        .ingest(&json!({"events": [user_event("evt_k1", "user.updated"), user_event("evt_k2", "session.created"),
                                   user_event("evt_k3", "user.deleted")]}))
        .await
        .unwrap();
    world.run_until_idle(Duration::from_secs(60)).await;
    let sent = world.sender.sent_to(CHAT);
    assert_eq!(sent.len(), 2, "a failure and its retry");
    // The id is made from what the POST carries, so the retry is recognisably the same batch.
    assert_eq!(sent[0].header("webhook-id"), sent[1].header("webhook-id"));
    assert_eq!(sent[0].body, sent[1].body);
}
