//! The admin side: a secret rotation logs neither the old nor the new secret (nor the
//! deliveries signed with both), and a failure's response snippet may be stored in the
//! failure record but is never logged.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use authhooks_tests::receiver::Reply;
use authhooks_tests::Receiver;

use super::capture::{captured, secret_forms, signature_values};
use super::local::{Local, EMAIL, SENTINEL};

const INGEST_SECRET: &str = "whsec_YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotation_logs_neither_secret() {
    const ADMIN_TOKEN: &str = "log-capture-admin-token-rotation";
    let logs = captured();
    let local = Local::start(ADMIN_TOKEN, INGEST_SECRET, 2).await;
    let receiver = Receiver::start().await;
    let spec = json!({"url": receiver.url(), "event_types": ["*"]});
    let (status, created) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let old = created["secret"].as_str().unwrap().to_owned();
    let (status, rotated) = local
        .admin("POST", &format!("/v1/endpoints/{id}/rotate-secret"), None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    let (status, read) = local
        .admin("GET", &format!("/v1/endpoints/{id}"), None)
        .await;
    assert_eq!(status, 200, "{read}");

    // Within the grace period a delivery is signed with both secrets.
    let event = json!({"id": "evt_rotation_1", "type": "user.created",
                       "data": {"email": EMAIL, "note": SENTINEL}});
    let (status, answer, ingest_signature) = local.ingest(event.to_string().as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    local.running.shutdown().await;
    let signature = received[0].header("webhook-signature").unwrap();
    assert_eq!(signature.split(' ').count(), 2, "{signature}");

    let mut needles = secret_forms(&old);
    needles.extend(secret_forms(&new));
    needles.extend(secret_forms(INGEST_SECRET));
    needles.extend(signature_values(signature));
    needles.extend(signature_values(&ingest_signature));
    needles.extend([
        ADMIN_TOKEN.to_owned(),
        SENTINEL.to_owned(),
        EMAIL.to_owned(),
    ]);
    logs.assert_free_of(&needles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_snippet_is_recorded_but_never_logged() {
    const ADMIN_TOKEN: &str = "log-capture-admin-token-snippet";
    const SNIPPET: &str = "receiver-snippet-sentinel-91d2";
    let logs = captured();
    let local = Local::start(ADMIN_TOKEN, INGEST_SECRET, 2).await;
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(500).with_body(format!("{SNIPPET} {EMAIL}")));
    // No retries: the first 500 dead-letters the delivery and the recorder records it.
    let spec = json!({"url": receiver.url(), "event_types": ["*"], "retry": {"initial_delay_ms": 1000, "backoff_multiplier": 2.0,
                                "max_delay_ms": 1000, "max_retries": 0}});
    let (status, created) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();

    let event = json!({"id": "evt_snippet_1", "type": "user.created", "data": {"note": SENTINEL}});
    let (status, answer, ingest_signature) = local.ingest(event.to_string().as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    let failure = wait_for_failure(&local, "evt_snippet_1").await;
    assert_eq!(failure["last_status"], 500, "{failure}");
    let (status, attempts) = local
        .admin("GET", "/v1/events/evt_snippet_1/attempts", None)
        .await;
    assert_eq!(status, 200, "{attempts}");
    // The snippet reached the product (so its absence from the logs means something).
    let stored = format!("{failure}{attempts}");
    assert!(
        stored.contains(SNIPPET),
        "the snippet was not kept: {stored}"
    );
    let received = receiver.requests();
    local.running.shutdown().await;

    let mut needles = secret_forms(&secret);
    needles.extend(secret_forms(INGEST_SECRET));
    needles.extend(signature_values(&ingest_signature));
    for request in &received {
        needles.extend(signature_values(
            request.header("webhook-signature").unwrap(),
        ));
    }
    needles.extend([
        ADMIN_TOKEN.to_owned(),
        SNIPPET.to_owned(),
        SENTINEL.to_owned(),
        EMAIL.to_owned(),
    ]);
    logs.assert_free_of(&needles);
}

async fn wait_for_failure(local: &Local, event_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, page) = local.admin("GET", "/v1/failures", None).await;
        assert_eq!(status, 200, "{page}");
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["event_id"] == event_id)
            .cloned();
        if let Some(failure) = found {
            return failure;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no failure recorded: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
