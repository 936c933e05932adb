//! W3C Trace Context end to end (issue #15): a producer's `traceparent` reaches the receiver
//! as a child — same trace id, a fresh parent id per attempt — through retries, in local
//! mode and through SQS, DynamoDB and a replay on moto; signatures still verify; without a
//! valid `traceparent` in, none goes out, and a malformed one is ignored, not refused.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use authhooks::domain::trace::TraceParent;
use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::local::LocalServer;
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::receiver::{Recorded, Reply};
use authhooks_tests::{verify_with_python, Receiver};

const ADMIN_TOKEN: &str = "trace-context-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const WAIT: Duration = Duration::from_secs(30);

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN: &str = "00f067aa0ba902b7";
const STATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

fn producer_traceparent() -> String {
    format!("00-{TRACE_ID}-{PRODUCER_SPAN}-01")
}

async fn start() -> LocalServer {
    LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await
}

/// Creates an endpoint to `url` retried after 1 s; its secret.
async fn add_endpoint(local: &LocalServer, url: &str) -> String {
    let spec = json!({"url": url, "event_types": ["user.*"], "retry": {"schedule_secs": [1]}});
    let created = local.create_endpoint(&spec).await;
    created["secret"].as_str().unwrap().to_owned()
}

/// A signed POST of one event with `headers` added; the status.
async fn ingest(local: &LocalServer, id: &str, headers: &[(&str, &str)]) -> u16 {
    let body = json!({"id": id, "type": "user.created", "data": {"user": {"id": "u_1"}}});
    let headers: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    let (status, _, _) = local
        .ingest_with_headers(body.to_string().as_bytes(), &headers)
        .await;
    status
}

/// The context a request carried, checked to be a valid child of the producer's: the same
/// trace, a parent that is neither the producer's span nor zero, `tracestate` as sent.
fn child_of_producer(request: &Recorded) -> TraceParent {
    let header = request
        .header("traceparent")
        .unwrap_or_else(|| panic!("no traceparent: {:?}", request.headers));
    let sent = TraceParent::parse(header, request.header("tracestate"))
        .unwrap_or_else(|| panic!("invalid traceparent sent: {header}"));
    assert_eq!(sent.trace_id_hex(), TRACE_ID, "{header}");
    let parent: String = sent
        .parent_id()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(
        parent, PRODUCER_SPAN,
        "the producer's span passed on as ours: {header}"
    );
    assert!(header.ends_with("-01"), "sampled flag lost: {header}");
    assert_eq!(request.header("tracestate"), Some(STATE));
    sent
}

fn without_trace_headers(request: &Recorded) {
    for name in ["traceparent", "tracestate"] {
        assert_eq!(request.header(name), None, "{:?}", request.headers);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producers_trace_reaches_each_attempt_as_a_child_and_signatures_still_verify() {
    let local = start().await;
    let receiver = Receiver::start().await;
    receiver.set_reply(|n| Reply::status(if n == 1 { 500 } else { 200 }));
    let secret = add_endpoint(&local, &receiver.url()).await;

    let traceparent = producer_traceparent();
    let headers = [("traceparent", traceparent.as_str()), ("tracestate", STATE)];
    assert_eq!(ingest(&local, "evt_traced", &headers).await, 202);
    let received = receiver.wait_for(2, WAIT).await;
    local.running.shutdown().await;

    let first = child_of_producer(&received[0]);
    let second = child_of_producer(&received[1]);
    // Each attempt is a span of its own, so the receiver's spans hang under the right one.
    assert_ne!(first.parent_id(), second.parent_id());
    assert_eq!(received[1].header("webhook-attempt"), Some("2"));
    verify_with_python(&secret, &received).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_valid_traceparent_nothing_is_sent_and_a_malformed_one_is_not_refused() {
    let local = start().await;
    let receiver = Receiver::start().await;
    let secret = add_endpoint(&local, &receiver.url()).await;

    assert_eq!(ingest(&local, "evt_untraced", &[]).await, 202);
    let malformed = [
        // Upper-case hex, an all-zero trace id, a version-00 header with a tail.
        format!("00-{}-{PRODUCER_SPAN}-01", TRACE_ID.to_uppercase()),
        format!("00-{}-{PRODUCER_SPAN}-01", "0".repeat(32)),
        format!("{}-x", producer_traceparent()),
    ];
    for (n, traceparent) in malformed.iter().enumerate() {
        let headers = [("traceparent", traceparent.as_str()), ("tracestate", STATE)];
        let status = ingest(&local, &format!("evt_malformed_{n}"), &headers).await;
        assert_eq!(status, 202, "{traceparent}");
    }
    let received = receiver.wait_for(1 + malformed.len(), WAIT).await;
    local.running.shutdown().await;
    assert_eq!(received.len(), 1 + malformed.len());
    received.iter().for_each(without_trace_headers);
    verify_with_python(&secret, &received).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_survives_sqs_retries_the_failures_table_and_a_replay() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(503));
    let (_, secret) = pipeline
        .add_endpoint(
            json!({"url": receiver.url(), "event_types": ["*"], "retry": {"schedule_secs": [1]}}),
        )
        .await;
    let traceparent = producer_traceparent();
    let event = json!({"id": "evt_traced_aws", "type": "user.created", "data": {}});
    let headers = [("traceparent", traceparent.as_str()), ("tracestate", STATE)];
    let (status, body) = pipeline.post_event_with(&event, &headers).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let failures = || async {
        let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
        list["items"].as_array().map_or(0, Vec::len) > 0
    };
    pipeline
        .run_until("the failure record", WAIT, failures)
        .await;
    let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    receiver.set_reply(|_| Reply::status(200));
    let (status, replayed) = pipeline
        .admin("POST", &format!("/v1/failures/{id}/replay"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    pipeline
        .run_until("the replayed delivery", WAIT, || async {
            receiver.requests().len() >= 3
        })
        .await;

    let received = receiver.requests();
    let attempts: Vec<_> = received
        .iter()
        .map(|r| r.header("webhook-attempt"))
        .collect();
    assert_eq!(attempts, [Some("1"), Some("2"), Some("1")]);
    let parents: Vec<[u8; 8]> = received
        .iter()
        .map(|r| child_of_producer(r).parent_id())
        .collect();
    assert!(
        parents[0] != parents[1] && parents[1] != parents[2],
        "{parents:?}"
    );
    verify_with_python(&secret, &received).unwrap();
}
