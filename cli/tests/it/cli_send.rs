//! `authhooks send` against a real HTTP server on 127.0.0.1 that authenticates the request
//! the way ingest does (Standard Webhooks signature with the ingest secret) and checks the
//! body's shape before answering like docs/architecture.md §3.1.

use std::sync::{Arc, Mutex};

use authhooks::domain::event::EventType;
use authhooks::domain::signature::{verify, Secret, SignedHeaders};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use crate::common::{authhooks, one_error_line, run_async, serve, stdout, Scratch};

const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Value)>>>);

fn problem(status: StatusCode, detail: &str, errors: Value) -> Response {
    let body = json!({"type": "about:blank", "title": status.canonical_reason(),
                      "status": status.as_u16(), "detail": detail, "errors": errors});
    let headers = [("content-type", "application/problem+json")];
    (status, headers, body.to_string()).into_response()
}

/// What ingest checks, in its order: signature, content type, JSON, event shape.
async fn ingest(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let signed = SignedHeaders {
        id: text("webhook-id"),
        timestamp: text("webhook-timestamp"),
        signature: text("webhook-signature"),
    };
    let secret = Secret::parse(INGEST_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = verify([&secret], &signed, &body, now, 300) {
        return problem(
            StatusCode::UNAUTHORIZED,
            &format!("signature rejected: {e}"),
            json!([]),
        );
    }
    if text("content-type") != "application/json" {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send JSON", json!([]));
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return problem(StatusCode::BAD_REQUEST, "body is not JSON", json!([]));
    };
    let events = match value.get("events") {
        Some(Value::Array(events)) => events.clone(),
        _ => vec![value.clone()],
    };
    let mut answers = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let event_type = event["type"].as_str().unwrap_or("");
        if let Err(message) = EventType::parse(event_type) {
            let errors = json!([{"field": "type", "message": message}]);
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the event is invalid",
                errors,
            );
        }
        if !event["data"].is_object() {
            let errors = json!([{"field": "data", "message": "must be an object"}]);
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the event is invalid",
                errors,
            );
        }
        let id = event["id"]
            .as_str()
            .map_or(format!("evt_gen{i}"), str::to_owned);
        answers.push(json!({"id": id, "deliveries": 2, "duplicate": false}));
    }
    seen.0.lock().unwrap().push((headers, value));
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "events": answers })),
    )
        .into_response()
}

async fn ingest_server() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/events", post(ingest))
        .with_state(seen.clone());
    (serve(app).await, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_event_is_signed_posted_and_its_deliveries_printed() {
    let (url, seen) = ingest_server().await;
    let args = [
        "--url",
        &url,
        "--ingest-secret",
        INGEST_SECRET,
        "send",
        "user.created",
        "--data",
        r#"{"user":{"id":"u_1","email":"a@example.com"}}"#,
        "--id",
        "evt_cli_1",
        "--subject",
        "u_1",
        "--tenant",
        "acme",
        "--origin",
        "better-auth",
    ];
    let out = run_async(authhooks(&args), None).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    let printed = stdout(&out);
    let row = printed.lines().find(|l| l.contains("evt_cli_1")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["evt_cli_1", "2", "false"]
    );

    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(
        body,
        &json!({"id": "evt_cli_1", "type": "user.created", "subject": "u_1", "tenant_id": "acme",
                "origin": "better-auth", "data": {"user": {"id": "u_1", "email": "a@example.com"}}})
    );
    let webhook_id = headers["webhook-id"].to_str().unwrap();
    assert!(webhook_id.starts_with("msg_"), "{webhook_id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_file_goes_as_one_request_and_json_prints_the_answer() {
    let (url, seen) = ingest_server().await;
    let dir = Scratch::new("send-batch");
    let events = json!([
        {"type": "session.revoked", "data": {"session": {"id": "s_1"}}},
        {"id": "evt_b2", "type": "user.deleted", "data": {"user": {"id": "u_9"}}},
    ]);
    let file = dir.file("events.json", events.to_string().as_bytes());
    let args = ["--url", &url, "send", "--file", &file, "--json"];
    let mut command = authhooks(&args);
    command.env("AUTHHOOKS_INGEST_SECRET", INGEST_SECRET);
    let out = run_async(command, None).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["events"][1],
        json!({"id": "evt_b2", "deliveries": 2, "duplicate": false})
    );

    let mut command = authhooks(&["--url", &url, "send", "user.updated"]);
    command.env("AUTHHOOKS_INGEST_SECRET", INGEST_SECRET);
    let again = run_async(command, None).await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&again)
    );

    let seen = seen.0.lock().unwrap();
    assert_eq!(seen[0].1, json!({ "events": events }));
    assert_eq!(seen[1].1, json!({"type": "user.updated", "data": {}}));
    // Each request is its own signed message.
    assert_ne!(seen[0].0["webhook-id"], seen[1].0["webhook-id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_one_line_with_the_servers_reason() {
    let (url, seen) = ingest_server().await;
    let other = "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur";
    let args = [
        "--url",
        &url,
        "--ingest-secret",
        other,
        "send",
        "user.created",
    ];
    let out = run_async(authhooks(&args), None).await;
    let line = one_error_line(&out, 1);
    assert_eq!(
        line,
        "error: signature rejected: no v1 entry in webhook-signature matches a signing secret \
         (HTTP 401) — check --ingest-secret (or AUTHHOOKS_INGEST_SECRET) and this machine's clock"
    );
    assert!(!line.contains(other));

    let args = [
        "--url",
        &url,
        "--ingest-secret",
        INGEST_SECRET,
        "send",
        "User.Created",
    ];
    let line = one_error_line(&run_async(authhooks(&args), None).await, 1);
    assert!(
        line.starts_with("error: the event is invalid (HTTP 422): type: segments may contain"),
        "{line}"
    );
    assert!(seen.0.lock().unwrap().is_empty());
}
