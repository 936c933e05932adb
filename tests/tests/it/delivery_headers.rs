//! The headers of a real delivery: local mode's pipeline and the real HTTP sender, to a real
//! receiver, send `content-type`, `user-agent`, `webhook-attempt`, the Standard Webhooks
//! headers and the endpoint's extra headers exactly once each; and an extra header can never
//! name one of the headers authhooks sets (docs/architecture.md §3.3).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use authhooks_tests::local::LocalServer;
use authhooks_tests::{verify_with_python, Receiver};

const ADMIN_TOKEN: &str = "delivery-headers-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn start() -> LocalServer {
    LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await
}

async fn ingest(local: &LocalServer, event: &Value) -> u16 {
    local.ingest(event.to_string().as_bytes()).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_carries_each_header_authhooks_sets_once_and_the_extra_headers_exactly() {
    let local = start().await;
    let receiver = Receiver::start().await;
    let spec = json!({"url": receiver.url(), "event_types": ["user.*"],
                      "headers": {"X-Team": "cms", "authorization": "Bearer rcv-token-1"}});
    let (status, created) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();

    let before = chrono::Utc::now().timestamp();
    let event = json!({"id": "evt_headers_1", "type": "user.created", "data": {"id": "u_1"}});
    assert_eq!(ingest(&local, &event).await, 202);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    local.running.shutdown().await;
    let request = &received[0];

    // Every header name once: a header sent twice (an extra one beside ours) is ambiguous.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in &request.headers {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    assert!(
        counts.values().all(|&n| n == 1),
        "a header sent twice: {:?}",
        request.headers
    );
    let names: Vec<&str> = counts.keys().copied().collect();
    // What the HTTP client adds on its own (accept, host, content-length) besides ours.
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "user-agent",
            "webhook-attempt",
            "webhook-id",
            "webhook-signature",
            "webhook-timestamp",
            "x-team",
        ],
        "{:?}",
        request.headers
    );
    let header = |name: &str| request.header(name).unwrap();
    assert_eq!(header("content-type"), "application/json");
    // Spelled out here, not read from the product's constant, so a change to it is seen.
    assert_eq!(
        header("user-agent"),
        concat!("authhooks/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header("webhook-attempt"), "1");
    assert_eq!(header("webhook-id"), "evt_headers_1");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert!(
        (before..=chrono::Utc::now().timestamp()).contains(&timestamp),
        "{timestamp}"
    );
    assert!(header("webhook-signature").starts_with("v1,"));
    assert_eq!(header("x-team"), "cms");
    assert_eq!(header("authorization"), "Bearer rcv-token-1");
    verify_with_python(&secret, &received).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_header_cannot_name_a_header_authhooks_sets() {
    let local = start().await;
    let receiver = Receiver::start().await;
    let reserved = [
        ("Content-Type", "text/plain"),
        ("user-agent", "evil/1"),
        ("webhook-signature", "v1,forged"),
        ("Webhook-Id", "evt_forged"),
        ("webhook-timestamp", "0"),
        ("webhook-attempt", "9"),
        ("content-length", "0"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("TraceState", "congo=t61rcWkgMzE"),
    ];
    for (name, value) in reserved {
        let spec = json!({"url": receiver.url(), "event_types": ["*"], "headers": {name: value}});
        let (status, body) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
        assert_eq!(
            status, 422,
            "{name} was accepted as an extra header: {body}"
        );
        assert_eq!(
            body["errors"][0]["field"],
            format!("headers.{name}"),
            "{body}"
        );
    }

    // Nor can an update slip one in: the endpoint keeps sending our content-type.
    let spec = json!({"url": receiver.url(), "event_types": ["*"], "headers": {"x-team": "cms"}});
    let (status, created) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let patch = json!({"headers": {"content-type": "text/plain"}});
    let path = format!("/v1/endpoints/{id}");
    let (status, body) = local.admin("PATCH", &path, Some(&patch)).await;
    assert_eq!(status, 422, "content-type was accepted on update: {body}");
    assert_eq!(
        ingest(
            &local,
            &json!({"id": "evt_headers_2", "type": "user.created", "data": {}})
        )
        .await,
        202
    );
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    local.running.shutdown().await;
    let content_types: Vec<&str> = received[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "content-type")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(content_types, ["application/json"]);
    assert_eq!(received[0].header("x-team"), Some("cms"));
}
