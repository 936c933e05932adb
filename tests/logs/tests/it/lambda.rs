//! The four functions wired from the environment as on AWS, then driven as Lambda drives
//! them: the routers called as Function URLs would call them, the handlers fed SQS events.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

use authhooks::adapters::dynamodb::{create_tables, TableNames};
use authhooks::adapters::sqs::{create_all_queues, SqsQueue};
use authhooks::api::admin::{self, not_found_fallback};
use authhooks::api::ingest;
use authhooks::domain::signature::{signature_header, Secret};
use authhooks::lambda::init;
use authhooks::lambda::metrics::MetricsOut;
use authhooks::lambda::wiring::{self, Recorder, Worker};
use authhooks_tests::lambda::{acknowledge, call, sqs_event};
use authhooks_tests::moto::Moto;
use authhooks_tests::receiver::Reply;
use authhooks_tests::Receiver;

use super::capture::{captured, secret_forms, signature_values};

const INGEST_SECRET: &str = "whsec_gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8=";
/// Not base64: the cold start must refuse it without quoting it.
const BAD_SECRET: &str = "whsec_not*base64*bad-ingest-secret-5c3a";
/// Valid base64 but 9 bytes: refused for its length, again without quoting it.
const SHORT_SECRET: &str = "whsec_c2hvcnQtc2Vj";
const OTHER_SECRET: &str = "whsec_oKGio6SlpqeoqaqrrK2ur7CxsrOztba3uLm6u7y9vr8=";
const ADMIN_TOKEN: &str = "log-capture-admin-token-lambda";
const AWS_SECRET_KEY: &str = "aws-secret-access-key-log-capture-77e0";
const SENTINEL: &str = "payload-sentinel-lambda-2b8d";
const EMAIL: &str = "lambda.person@example.com";
const SNIPPET: &str = "receiver-snippet-lambda-4e61";

/// The deployment's resources on moto, named in the environment as the template names them.
async fn deploy() -> (SqsQueue, SqsQueue) {
    let moto = Moto::shared();
    let sdk = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let tables = TableNames::named(Moto::unique);
    create_tables(&dynamodb, &tables).await.unwrap();
    let urls = create_all_queues(&sqs, &Moto::unique("logs"), 5, 30)
        .await
        .unwrap();
    // This test binary's only test that reads the environment, so setting it is safe.
    for (var, value) in [
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIALOGCAPTURE"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_KEY),
        ("AUTHHOOKS_ENDPOINTS_TABLE", &tables.endpoints),
        ("AUTHHOOKS_STATE_TABLE", &tables.state),
        ("AUTHHOOKS_FAILURES_TABLE", &tables.failures),
        ("AUTHHOOKS_DELIVERY_LOG_TABLE", &tables.delivery_log),
        ("AUTHHOOKS_SOURCES_TABLE", &tables.sources),
        ("AUTHHOOKS_DELIVERIES_QUEUE_URL", &urls.deliveries),
        ("AUTHHOOKS_ORDERED_QUEUE_URL", &urls.ordered),
        ("AUTHHOOKS_DLQ_URL", &urls.dlq),
        ("AUTHHOOKS_ADMIN_TOKEN", ADMIN_TOKEN),
        ("AUTHHOOKS_ALLOW_HTTP", "true"),
        ("AUTHHOOKS_ALLOW_PRIVATE_DESTINATIONS", "true"),
        ("AUTHHOOKS_ENDPOINT_CACHE_SECS", "0"),
    ] {
        std::env::set_var(var, value);
    }
    (
        SqsQueue::new(sqs.clone(), urls.deliveries.clone()),
        SqsQueue::new(sqs, urls.dlq.clone()),
    )
}

/// The ingest secret in Secrets Manager, as docs/deploy.md creates it; its ARN.
async fn ingest_secret_arn(value: &str) -> String {
    Moto::shared().create_secret(value).await.0
}

/// EMF lines written into memory instead of stdout.
fn emf_capture() -> (MetricsOut, Arc<Mutex<Vec<serde_json::Value>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let out: MetricsOut = Arc::new(move |line: &str| {
        sink.lock()
            .unwrap()
            .push(serde_json::from_str(line).unwrap());
    });
    (out, lines)
}

async fn admin_call(router: &Router, method: &str, path: &str, body: Option<Value>) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "application/json");
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
    let (status, answer) = call(router, request.body(body).unwrap()).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

async fn ingest_call(router: &Router, secret: &str, body: &Value) -> (StatusCode, String) {
    let bytes = body.to_string().into_bytes();
    let now = chrono::Utc::now().timestamp();
    let signature = signature_header([&Secret::parse(secret).unwrap()], "msg_l", now, &bytes);
    let request = Request::post("/v1/events")
        .header("content-type", "application/json")
        .header("webhook-id", "msg_l")
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", &signature)
        .body(Body::from(bytes))
        .unwrap();
    (call(router, request).await.0, signature)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_log_no_secret_or_payload_from_cold_start_to_failure_record() {
    let logs = captured();
    let (deliveries, dlq) = deploy().await;
    let mut needles = Vec::new();

    // A cold start with a bad ingest secret fails, naming the variable but not the value.
    for bad in [BAD_SECRET, SHORT_SECRET] {
        std::env::set_var("AUTHHOOKS_INGEST_SECRET", bad);
        let Err(error) = wiring::ingest_api().await else {
            panic!("{bad} was accepted as the ingest secret");
        };
        let shown = format!("{error} / {error:?}");
        assert!(shown.contains("AUTHHOOKS_INGEST_SECRET"), "{shown}");
        for needle in secret_forms(bad) {
            assert!(
                !shown.contains(&needle),
                "the error quotes the secret: {shown}"
            );
        }
        needles.extend(secret_forms(bad));
    }
    // A cold start that fails is logged as one JSON line (and reported to the Runtime API,
    // absent here): still without the secret.
    std::env::set_var("AUTHHOOKS_INGEST_SECRET", BAD_SECRET);
    assert!(init::start_reporting_to(None, wiring::ingest_api())
        .await
        .is_err());
    let failed = logs
        .lines()
        .into_iter()
        .find(|l| l["message"] == "cold start failed")
        .expect("the failed cold start was not logged");
    assert_eq!(failed["error_type"], "Runtime.ConfigError", "{failed}");

    // As deployed: the ARN in the environment, the value read from Secrets Manager.
    std::env::remove_var("AUTHHOOKS_INGEST_SECRET");
    std::env::set_var(
        "AUTHHOOKS_INGEST_SECRET_ARN",
        ingest_secret_arn(INGEST_SECRET).await,
    );
    let ingest = not_found_fallback(ingest::router(Arc::new(
        wiring::ingest_api().await.unwrap(),
    )));
    let admin = not_found_fallback(admin::router(Arc::new(wiring::admin_api().await.unwrap())));
    let (worker_out, worker_metrics) = emf_capture();
    let worker = Worker::from_env().await.unwrap().metrics_out(worker_out);
    let (recorder_out, recorder_metrics) = emf_capture();
    let recorder = Recorder::from_env()
        .await
        .unwrap()
        .metrics_out(recorder_out);

    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(500).with_body(format!("{SNIPPET} {EMAIL}")));
    let spec = json!({"url": receiver.url(), "event_types": ["*"],
                      "retry": {"initial_delay_ms": 1000, "backoff_multiplier": 2.0,
                                "max_delay_ms": 1000, "max_retries": 0}});
    let created = admin_call(&admin, "POST", "/v1/endpoints", Some(spec)).await;
    let id = created["id"].as_str().unwrap();
    needles.extend(secret_forms(created["secret"].as_str().unwrap()));
    let rotated = admin_call(
        &admin,
        "POST",
        &format!("/v1/endpoints/{id}/rotate-secret"),
        None,
    )
    .await;
    needles.extend(secret_forms(rotated["secret"].as_str().unwrap()));

    let event = json!({"id": "evt_lambda_logs", "type": "user.created",
                       "data": {"email": EMAIL, "note": SENTINEL}});
    let (status, signature) = ingest_call(&ingest, OTHER_SECRET, &event).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    needles.extend(signature_values(&signature));
    let (status, signature) = ingest_call(&ingest, INGEST_SECRET, &event).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    needles.extend(signature_values(&signature));

    // One worker invocation: the 500 dead-letters the delivery; one dlq invocation records it.
    let messages = deliveries.receive(10, 1).await.unwrap();
    assert_eq!(messages.len(), 1);
    let response = worker.handle(sqs_event(&messages, "deliveries")).await;
    acknowledge(&deliveries, messages, &response).await.unwrap();
    let letters = dlq.receive(10, 1).await.unwrap();
    assert_eq!(letters.len(), 1);
    let response = recorder.handle(sqs_event(&letters, "dlq")).await;
    acknowledge(&dlq, letters, &response).await.unwrap();

    // Per-endpoint metrics are off by default: the worker wrote its totals only.
    let worker_lines = worker_metrics.lock().unwrap().clone();
    assert_eq!(worker_lines.len(), 1, "{worker_lines:?}");
    assert_eq!(worker_lines[0]["dead_lettered"], 1, "{worker_lines:?}");
    assert!(worker_lines[0].get("endpoint_id").is_none());
    // The dlq function counts what it recorded, in EMF: the letter the worker sent...
    let emf = recorder_metrics.lock().unwrap().clone();
    assert_eq!(emf.len(), 1, "{emf:?}");
    assert_eq!(emf[0]["failures_recorded"], 1, "{emf:?}");
    assert_eq!(emf[0]["redriven"], 0, "{emf:?}");
    let meta = &emf[0]["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(meta["Namespace"], "authhooks");
    assert_eq!(meta["Dimensions"], json!([[]]));
    assert_eq!(
        meta["Metrics"],
        json!([{"Name": "failures_recorded", "Unit": "Count"},
               {"Name": "redriven", "Unit": "Count"}])
    );
    // ...and a job SQS redrove itself (its body as the worker left it, received from the
    // DLQ's event source): the DLQ is empty again at once, this count stays.
    let event = json!({"id": "evt_lambda_redrive", "type": "user.created",
                       "data": {"email": EMAIL, "note": SENTINEL}});
    let (status, signature) = ingest_call(&ingest, INGEST_SECRET, &event).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    needles.extend(signature_values(&signature));
    let jobs = deliveries.receive(10, 1).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let response = recorder.handle(sqs_event(&jobs, "dlq")).await;
    acknowledge(&deliveries, jobs, &response).await.unwrap();
    let emf = recorder_metrics.lock().unwrap().clone();
    assert_eq!(emf.len(), 2, "{emf:?}");
    assert_eq!(emf[1]["failures_recorded"], 1, "{emf:?}");
    assert_eq!(emf[1]["redriven"], 1, "{emf:?}");
    let failures = admin_call(&admin, "GET", "/v1/failures", None).await;
    let items = failures["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{failures}");
    assert!(items.iter().any(|i| i["last_status"] == 500), "{failures}");
    let attempts = admin_call(&admin, "GET", "/v1/events/evt_lambda_logs/attempts", None).await;
    assert!(
        format!("{failures}{attempts}").contains(SNIPPET),
        "the snippet was not kept: {failures} {attempts}"
    );

    let received = receiver.requests();
    assert_eq!(received.len(), 1);
    needles.extend(signature_values(
        received[0].header("webhook-signature").unwrap(),
    ));
    needles.extend(secret_forms(INGEST_SECRET));
    needles.extend(secret_forms(OTHER_SECRET));
    needles.extend([ADMIN_TOKEN, AWS_SECRET_KEY, SENTINEL, EMAIL, SNIPPET].map(String::from));
    logs.assert_free_of(&needles);
}
