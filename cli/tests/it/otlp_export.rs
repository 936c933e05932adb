//! `authhooks dev` with `OTEL_EXPORTER_OTLP_ENDPOINT` set exports its spans (issue #15): a
//! test collector on 127.0.0.1 takes the OTLP/HTTP protobuf requests, decoded with the
//! protocol's own message definitions, and finds the `ingest` and `deliver` spans in the
//! producer's trace, parented on the producer's span; the receiver's `traceparent` names
//! the `deliver` span as its parent, so a backend joins the three.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};

use authhooks::domain::signature::{signature_header, Secret};

use crate::common::{authhooks, closed_port};

const ADMIN_TOKEN: &str = "otlp-export-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN: &str = "00f067aa0ba902b7";
const WAIT: Duration = Duration::from_secs(30);

type Log<T> = Arc<Mutex<Vec<T>>>;

/// Serves `router` on a free loopback port; its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A collector: every `POST /v1/traces` body, answered 200.
async fn collector() -> (String, Log<Bytes>) {
    let bodies: Log<Bytes> = Arc::default();
    let router = Router::new()
        .route(
            "/v1/traces",
            post(|State(log): State<Log<Bytes>>, body: Bytes| async move {
                log.lock().unwrap().push(body);
            }),
        )
        .with_state(bodies.clone());
    (serve(router).await, bodies)
}

/// A receiver: the `traceparent` of every request, answered 200.
async fn receiver() -> (String, Log<Option<String>>) {
    let seen: Log<Option<String>> = Arc::default();
    let router = Router::new()
        .fallback(
            |State(log): State<Log<Option<String>>>, headers: HeaderMap| async move {
                let traceparent = headers.get("traceparent");
                let value = traceparent.and_then(|v| v.to_str().ok()).map(str::to_owned);
                log.lock().unwrap().push(value);
            },
        )
        .with_state(seen.clone());
    (format!("{}/hook", serve(router).await), seen)
}

async fn until<T: Clone>(log: &Log<T>, what: &str, done: impl Fn(&[T]) -> bool) -> Vec<T> {
    let started = Instant::now();
    loop {
        let now = log.lock().unwrap().clone();
        if done(&now) {
            return now;
        }
        assert!(started.elapsed() < WAIT, "no {what} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `authhooks dev`, killed on drop should an assertion leave it running.
struct Dev(Option<Child>);

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `authhooks dev` exporting to `collector`, once its banner is out.
fn spawn_dev(port: u16, collector: &str) -> Dev {
    let mut command = authhooks(&["dev", "--port", &port.to_string(), "--workers", "1"]);
    command
        .env("AUTHHOOKS_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("AUTHHOOKS_INGEST_SECRET", INGEST_SECRET)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_SDK_DISABLED")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut dev = Dev(Some(command.spawn().unwrap()));
    let stdout = dev.0.as_mut().and_then(|c| c.stdout.take()).unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    // Drained to the end, so dev never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    while !lines
        .recv_timeout(WAIT)
        .expect("dev printed no banner")
        .contains("Ctrl-C")
    {}
    dev
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute<'s>(span: &'s Span, key: &str) -> Option<&'s any_value::Value> {
    span.attributes
        .iter()
        .find(|KeyValue { key: k, .. }| k == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|AnyValue { value }| value.as_ref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_exports_ingest_and_deliver_spans_in_the_producers_trace() {
    let (collector_url, bodies) = collector().await;
    let (hook, traceparents) = receiver().await;
    let port = closed_port();
    let mut dev = spawn_dev(port, &collector_url);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let spec = json!({"url": hook, "event_types": ["user.*"]});
    let created = client
        .post(format!("{base}/v1/endpoints"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(spec.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = serde_json::from_slice(&created.bytes().await.unwrap()).unwrap();
    let endpoint_id = created["id"].as_str().unwrap().to_owned();

    let body = json!({"id": "evt_otlp", "type": "user.created", "data": {}}).to_string();
    let now = chrono::Utc::now().timestamp();
    let secret = Secret::parse(INGEST_SECRET).unwrap();
    let accepted = client
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_otlp")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            signature_header([&secret], "msg_otlp", now, body.as_bytes()),
        )
        .header("traceparent", format!("00-{TRACE_ID}-{PRODUCER_SPAN}-01"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let sent = until(&traceparents, "delivery", |seen| !seen.is_empty()).await;

    // Ctrl-C: the drain, then the exporter's shutdown sends what is left.
    let mut child = dev.0.take().unwrap();
    let pid = child.id().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(interrupted.unwrap().success());
    let output = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    assert_eq!(output.0.code(), Some(0), "{}", output.1);

    let spans: Vec<(Span, Option<String>)> = bodies
        .lock()
        .unwrap()
        .iter()
        .map(|body| ExportTraceServiceRequest::decode(body.clone()).unwrap())
        .flat_map(|request| request.resource_spans)
        .flat_map(|resource| {
            let service = resource.resource.and_then(|r| {
                r.attributes
                    .into_iter()
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| kv.value)
                    .and_then(|v| v.value)
                    .and_then(|v| match v {
                        any_value::Value::StringValue(s) => Some(s),
                        _ => None,
                    })
            });
            resource
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
                .map(move |span| (span, service.clone()))
        })
        .collect();
    let named = |name: &str| {
        let found: Vec<&(Span, Option<String>)> =
            spans.iter().filter(|(s, _)| s.name == name).collect();
        assert_eq!(found.len(), 1, "{name} spans: {spans:#?}");
        found[0]
    };

    let (ingest, service) = named("ingest");
    assert_eq!(service.as_deref(), Some("authhooks-dev"));
    assert_eq!(hex(&ingest.trace_id), TRACE_ID);
    assert_eq!(hex(&ingest.parent_span_id), PRODUCER_SPAN);

    let (deliver, _) = named("deliver");
    assert_eq!(hex(&deliver.trace_id), TRACE_ID);
    assert_eq!(hex(&deliver.parent_span_id), PRODUCER_SPAN);
    let text = |key| match attribute(deliver, key) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    };
    let number = |key| match attribute(deliver, key) {
        Some(any_value::Value::IntValue(n)) => *n,
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(text("endpoint_id"), endpoint_id);
    assert_eq!(text("event_id"), "evt_otlp");
    assert!(text("delivery_id").starts_with("dlv_"));
    assert_eq!(number("attempt"), 1);
    assert_eq!(number("status"), 200);

    // The receiver's parent is the exported attempt span, in the same trace.
    let header = sent[0].clone().expect("no traceparent sent");
    assert_eq!(
        header,
        format!("00-{TRACE_ID}-{}-01", hex(&deliver.span_id)),
        "{spans:#?}"
    );
}
