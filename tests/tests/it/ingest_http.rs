//! Ingest's 503 over HTTP: when the queue or the endpoint store fails, the ingest router
//! answers 503 problem+json with a `Retry-After`, says nothing of the failure's cause, and
//! nothing is enqueued or claimed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use tower::ServiceExt;

use authhooks::adapters::memory::{ManualClock, MemoryStateStore, QueueSettings, SeededEntropy};
use authhooks::api::admin::not_found_fallback;
use authhooks::app::ingest::IngestSettings;
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::ids::{DeliveryId, EndpointId, EventId};
use authhooks::domain::signature::{signature_header, Secret};
use authhooks::ports::{
    list_all_endpoints, Clock, DeliveryQueue, EndpointStore, Enqueue, IdempotencyKey,
    IdempotencyStore, Page, PageRequest, PortError,
};
use authhooks::system::{MemoryBackend, Settings};
use authhooks_tests::World;

const INGEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// In the dependency's error: internal detail that must not reach the caller.
const CAUSE: &str = "queue-down-internal-detail-7b1e";

/// A queue that is down: it counts the jobs it was asked to take and takes none.
#[derive(Default)]
struct DownQueue {
    jobs_offered: AtomicUsize,
}

#[async_trait]
impl DeliveryQueue for DownQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        self.jobs_offered.fetch_add(jobs.len(), Ordering::SeqCst);
        Err(PortError::Unavailable(CAUSE.into()))
    }
}

/// An endpoint store that cannot be read.
struct DownEndpoints;

#[async_trait]
impl EndpointStore for DownEndpoints {
    async fn put(&self, _: &Endpoint) -> Result<(), PortError> {
        Err(PortError::Unavailable(CAUSE.into()))
    }
    async fn get(&self, _: &EndpointId) -> Result<Option<Endpoint>, PortError> {
        Err(PortError::Unavailable(CAUSE.into()))
    }
    async fn list(&self, _: PageRequest) -> Result<Page<Endpoint>, PortError> {
        Err(PortError::Unavailable(CAUSE.into()))
    }
    async fn delete(&self, _: &EndpointId) -> Result<bool, PortError> {
        Err(PortError::Unavailable(CAUSE.into()))
    }
}

struct Setup {
    router: axum::Router,
    queue: Arc<DownQueue>,
    idempotency: Arc<MemoryStateStore>,
    endpoint: EndpointId,
}

/// The ingest router as the functions build it, over one matching endpoint (or a store that
/// is down) and a queue that is down.
async fn setup(endpoints_down: bool) -> Setup {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": "http://cms.test/hook", "event_types": ["user.*"]}))
        .await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now()));
    let backend = MemoryBackend::new(clock.clone(), QueueSettings::default());
    for endpoint in list_all_endpoints(world.endpoints.as_ref()).await.unwrap() {
        backend.endpoints.put(&endpoint).await.unwrap();
    }
    let queue = Arc::new(DownQueue::default());
    let idempotency = backend.state.clone();
    let system = backend
        .builder(clock, Arc::new(SeededEntropy::new(7)), world.sender.clone())
        .with(|ports| {
            ports.queue = queue.clone();
            if endpoints_down {
                ports.endpoints = Arc::new(DownEndpoints);
            }
        })
        .settings(Settings {
            ingest: IngestSettings {
                secret: Some(Secret::parse(INGEST_SECRET).unwrap()),
                ..IngestSettings::default()
            },
            ..Settings::default()
        })
        .build();
    let router = not_found_fallback(system.ingest_router());
    Setup {
        router,
        queue,
        idempotency,
        endpoint: endpoint.id,
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

/// POSTs a signed event; returns status, headers and the body as JSON.
async fn post_event(router: &axum::Router) -> (StatusCode, axum::http::HeaderMap, Value) {
    let body = json!({"id": "evt_503", "type": "user.created", "data": {"user": {"id": "u_1"}}})
        .to_string()
        .into_bytes();
    let ts = now().timestamp();
    let signature = signature_header(
        [&Secret::parse(INGEST_SECRET).unwrap()],
        "msg_503",
        ts,
        &body,
    );
    let request = Request::post("/v1/events")
        .header("content-type", "application/json")
        .header("webhook-id", "msg_503")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, headers, json)
}

/// The 503 contract (docs/architecture.md §3.1): problem+json, its fields, a retry hint in
/// whole seconds, and no word of the internal cause.
fn assert_unavailable(status: StatusCode, headers: &axum::http::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        headers[header::CONTENT_TYPE].to_str().unwrap(),
        "application/problem+json",
        "{headers:?}"
    );
    assert_eq!(body["type"], "urn:authhooks:problem:unavailable", "{body}");
    assert_eq!(body["title"], "Service unavailable", "{body}");
    assert_eq!(body["status"], 503, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("retry"), "{body}");
    assert!(
        !body.to_string().contains(CAUSE),
        "the cause leaked: {body}"
    );
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .unwrap_or_else(|| panic!("no Retry-After on a 503: {headers:?}"));
    let secs: u32 = retry_after.to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "Retry-After: {secs}");
}

#[tokio::test]
async fn a_queue_that_is_down_is_a_503_with_retry_after_and_nothing_claimed() {
    let setup = setup(false).await;
    let (status, headers, body) = post_event(&setup.router).await;
    assert_unavailable(status, &headers, &body);
    // The queue was offered the delivery (so the 503 comes from the enqueue), and took it not.
    assert_eq!(setup.queue.jobs_offered.load(Ordering::SeqCst), 1);
    // Nothing was claimed either: a retry of the request is not mistaken for a duplicate.
    let key = IdempotencyKey::delivery(&DeliveryId::derive(
        &EventId::parse("evt_503").unwrap(),
        &setup.endpoint,
    ));
    let seen = setup.idempotency.peek_many(&[key], now()).await.unwrap();
    assert_eq!(seen, [None]);

    // The retry the 503 invites is treated as new, and fails the same way.
    let (status, headers, body) = post_event(&setup.router).await;
    assert_unavailable(status, &headers, &body);
    assert_eq!(setup.queue.jobs_offered.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_endpoint_store_that_is_down_is_a_503_and_nothing_is_enqueued() {
    let setup = setup(true).await;
    let (status, headers, body) = post_event(&setup.router).await;
    assert_unavailable(status, &headers, &body);
    assert_eq!(setup.queue.jobs_offered.load(Ordering::SeqCst), 0);
}
