//! A list cursor the list never handed out (tampered, truncated, from another filter) is the
//! caller's mistake: 400 problem+json naming `cursor`, no ERROR logged, nothing changed — in
//! memory and on the DynamoDB adapter (moto). The corpus holds the in-memory cases too.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use serde_json::{json, Value};
use tracing_subscriber::util::SubscriberInitExt;

use authhooks::app::ingest::IngestSettings;
use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::moto::QueueOptions;

use crate::contract::System;

/// Every list route with a cursor, tampered in the ways a client could.
fn tampered(endpoint_id: &str) -> Vec<String> {
    vec![
        "/v1/failures?cursor=garbage".into(),
        "/v1/failures?limit=1&cursor=fail_unknown.0".into(),
        // Shaped like a DynamoDB failures cursor, outside the asked time range.
        "/v1/failures?failed_after=2026-01-01T00:00:00Z&cursor=99999999999999999999999999%23dlv_x.0"
            .into(),
        format!("/v1/failures?endpoint_id={endpoint_id}&cursor=garbage"),
        // An endpoint cursor is the id to start after: any id is a place in the list, so
        // only what cannot be an id is refused.
        "/v1/endpoints?cursor=a%20b".into(),
        "/v1/endpoints?limit=1&cursor=..%2Fetc".into(),
        "/v1/deliveries?cursor=garbage".into(),
        // Base64 of `{"hour":1,"at":"zz"}`: JSON of the right shape, a key no batch has.
        format!("/v1/deliveries?endpoint_id={endpoint_id}&cursor=eyJob3VyIjoxLCJhdCI6Inp6In0"),
    ]
}

/// Log lines written on this thread while the guard lives, at every level.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn capture(&self) -> impl Drop {
        let lines = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_writer(move || lines.clone())
            .with_ansi(false)
            .finish()
            .set_default()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn assert_bad_cursor(path: &str, status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    assert_eq!(body["status"], 400, "{path}: {body}");
    assert_eq!(body["errors"][0]["field"], "cursor", "{path}: {body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{path}");
}

/// Every tampered cursor answers a 400 naming `cursor`, logs no ERROR and changes nothing.
async fn refuses_tampered_cursors<F, Fut>(endpoint_id: &str, get: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = (StatusCode, Value)>,
{
    let (_, before) = get("/v1/endpoints".to_owned()).await;
    let lines = Lines::default();
    let guard = lines.capture();
    for path in tampered(endpoint_id) {
        let (status, body) = get(path.clone()).await;
        assert_bad_cursor(&path, status, &body);
    }
    drop(guard);
    assert!(!lines.text().contains("ERROR"), "{}", lines.text());
    let (_, after) = get("/v1/endpoints".to_owned()).await;
    assert_eq!(before, after);
}

// Current-thread runtimes: every task of the request runs on the thread the log capture
// is installed on.
#[tokio::test]
async fn a_tampered_cursor_is_a_400_in_memory() {
    let sys = System::new(IngestSettings::default());
    let (endpoint_id, _) = sys
        .add_endpoint(json!({"url": "https://hooks.example.com/in", "event_types": ["*"]}))
        .await;
    let sys = &sys;
    refuses_tampered_cursors(&endpoint_id, |path| async move {
        sys.admin("GET", &path, None).await
    })
    .await;
}

#[tokio::test]
async fn a_tampered_cursor_is_a_400_on_dynamodb() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let (endpoint_id, _) = pipeline
        .add_endpoint(json!({"url": "https://hooks.example.com/in", "event_types": ["*"]}))
        .await;
    let aws = &pipeline;
    refuses_tampered_cursors(&endpoint_id, |path| async move {
        aws.admin("GET", &path, None).await
    })
    .await;
    // A cursor the list did hand out still pages.
    let (status, page) = pipeline.admin("GET", "/v1/failures?limit=1", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
}
