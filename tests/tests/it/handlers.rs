//! The handlers fed the sample Lambda events in `events/`: a Function URL request to
//! ingest, a batch of deliveries to the worker, a batch of dead letters to the dlq function.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use authhooks::adapters::memory::{ManualClock, QueueSettings};
use authhooks::api::admin::not_found_fallback;
use authhooks::app::ingest::IngestSettings;
use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::ids::EndpointId;
use authhooks::domain::signature::Secret;
use authhooks::lambda::sqs_batch::{batch_response, received};
use authhooks::ports::{
    Claim, ClaimOutcome, Clock, EndpointStore, IdempotencyKey, IdempotencyStore,
};
use authhooks::system::{MemoryBackend, Settings};
use authhooks_tests::lambda::call;
use authhooks_tests::{Receiver, World};

/// The secret the Function URL fixture was signed with (the Standard Webhooks example key).
const FIXTURE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FIXTURE_ENDPOINT: &str = "ep_01JD8Z0000000000000000000A";

fn fixture(name: &str) -> String {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn function_url_request(raw: &str) -> axum::http::Request<axum::body::Body> {
    let request = lambda_http::request::from_str(raw).unwrap();
    request.map(|body| axum::body::Body::from(body.to_vec()))
}

#[tokio::test]
async fn the_function_url_request_is_accepted_once_and_its_replay_is_a_duplicate() {
    let world = World::new();
    // Unordered: the copies below are the standard queue's (on the ordered queue FIFO
    // deduplication drops them, which `aws_adapters::fifo` covers).
    world
        .add_endpoint(
            json!({"url": "http://cms.test/hook", "event_types": ["user.*"], "ordering": "none"}),
        )
        .await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap(),
    ));
    let backend = MemoryBackend::new(clock.clone(), QueueSettings::default());
    for endpoint in authhooks::ports::list_all_endpoints(world.endpoints.as_ref())
        .await
        .unwrap()
    {
        backend.endpoints.put(&endpoint).await.unwrap();
    }
    let (queue, idempotency) = (backend.deliveries.clone(), backend.state.clone());
    let system = backend
        .builder(
            clock,
            Arc::new(authhooks::adapters::memory::SeededEntropy::new(1)),
            world.sender.clone(),
        )
        .settings(Settings {
            ingest: IngestSettings {
                secret: Some(Secret::parse(FIXTURE_SECRET).unwrap()),
                ..IngestSettings::default()
            },
            ..Settings::default()
        })
        .build();
    let router = not_found_fallback(system.ingest_router());

    let raw = fixture("function-url-ingest.json");
    let (status, body) = call(&router, function_url_request(&raw)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"][0]["id"], "evt_01JD8Z3K4M5N6P7Q8R9S0T1V2W");
    assert_eq!(body["events"][0]["deliveries"], 1);
    assert_eq!(queue.len(), 1);

    // The same request again before any worker took the job: its delivery is owed but not
    // under way, so it is enqueued again, under the same delivery id.
    let (status, body) = call(&router, function_url_request(&raw)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"][0]["duplicate"], false);
    let copies: Vec<DeliveryJob> = queue
        .receive(10)
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[0].delivery_id, copies[1].delivery_id);

    // Once a worker has claimed the delivery (its first act), a replay is a duplicate.
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
    let claim = Claim {
        token: 0,
        now,
        lease_until: now + chrono::Duration::seconds(35),
        expires_at: now + chrono::Duration::days(7),
    };
    let key = IdempotencyKey::delivery(&copies[0].delivery_id);
    assert_eq!(
        idempotency.claim(&key, &claim).await.unwrap(),
        ClaimOutcome::Claimed { progress: None }
    );
    let (status, body) = call(&router, function_url_request(&raw)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"][0]["duplicate"], true);
    assert_eq!(body["events"][0]["deliveries"], 1);
    assert_eq!(queue.len(), 2, "a duplicate enqueued something");

    // One byte of the body changed: the signature no longer holds.
    let mut tampered: Value = serde_json::from_str(&raw).unwrap();
    let original = tampered["body"].as_str().unwrap().to_owned();
    tampered["body"] = Value::String(original.replace("Ada", "Eve"));
    let (status, body) = call(&router, function_url_request(&tampered.to_string())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(queue.len(), 2);
}

#[tokio::test]
async fn the_worker_batch_delivers_its_jobs_and_reports_only_the_unreadable_record() {
    let world = World::new();
    let receiver = Receiver::start().await;
    let (mut endpoint, _) = world
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"]}))
        .await;
    endpoint.id = EndpointId::parse(FIXTURE_ENDPOINT).unwrap();
    world.endpoints.put(&endpoint).await.unwrap();
    let sender =
        authhooks::adapters::http::HttpSender::new(authhooks::adapters::http::SenderConfig {
            allow_private: true,
            ..Default::default()
        })
        .unwrap();
    let worker = world
        .builder()
        .with(|ports| ports.sender = Arc::new(sender))
        .build()
        .worker;

    let event: SqsEvent = serde_json::from_str(&fixture("sqs-deliveries-batch.json")).unwrap();
    let report = worker.deliver(received(event)).await;
    let response = serde_json::to_value(batch_response(report.failed)).unwrap();

    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "3f0b0c1d-0000-4000-8000-000000000003"}]})
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let mut ids: Vec<_> = requests
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "evt_01JD8Z3K4M5N6P7Q8R9S0T1V2W",
            "evt_01JD8Z3K4M5N6P7Q8R9S0T1V2X"
        ]
    );
}

#[tokio::test]
async fn the_dlq_batch_records_each_failure_once() {
    let world = World::new();
    let event: SqsEvent = serde_json::from_str(&fixture("sqs-dlq-batch.json")).unwrap();
    let report = world.system.recorder.record(received(event)).await;
    assert_eq!((report.recorded, report.duplicates), (2, 1));
    assert!(report.failed.is_empty() && report.unreadable.is_empty());

    let page = authhooks::ports::FailureStore::list(
        world.failures.as_ref(),
        &Default::default(),
        authhooks::ports::PageRequest::first(10),
    )
    .await
    .unwrap();
    let mut reasons: Vec<_> = page
        .items
        .iter()
        .map(|f| (f.event_id.to_string(), f.reason.as_str(), f.attempts))
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("evt_01JD8Z3K4M5N6P7Q8R9S0T1V2W".to_owned(), "exhausted", 2),
            ("evt_01JD8Z3K4M5N6P7Q8R9S0T1V2Y".to_owned(), "redriven", 1),
        ]
    );
    let exhausted = page
        .items
        .iter()
        .find(|f| f.reason.as_str() == "exhausted")
        .unwrap();
    assert_eq!(exhausted.last_error.as_deref(), Some("timeout"));
}
