//! The bad-input corpus (tests/corpus): every case through the real ingest and admin
//! routers over the in-memory adapters must get its 4xx as problem+json, change nothing and
//! never panic. A subset also runs against local mode over real HTTP (`bad_input/local.rs`);
//! `bad_input/ssrf.rs` covers names that only resolve to refused addresses.

mod case;
mod local;
mod snapshot;
mod ssrf;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use chrono::{TimeZone, Utc};
use serde_json::json;
use tower::ServiceExt;

use authhooks::adapters::memory::{
    ManualClock, MemoryEndpointStore, MemoryFailureStore, MemoryQueue, MemoryStateStore,
    QueueSettings, SeededEntropy,
};
use authhooks::api::admin::not_found_fallback;
use authhooks::app::admin::AdminSettings;
use authhooks::app::ingest::IngestSettings;
use authhooks::domain::delivery::{DeliveryJob, FailureRecord};
use authhooks::domain::endpoint::UrlPolicy;
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::event::Event;
use authhooks::domain::ids::EndpointId;
use authhooks::domain::outcome::FailureReason;
use authhooks::domain::signature::Secret;
use authhooks::ports::{Clock, EndpointStore, FailureStore};
use authhooks::system::{MemoryBackend, Settings};
use authhooks_tests::ScriptedSender;

use case::{check, load, Case, ADMIN_TOKEN, INGEST_SECRET};
use snapshot::snapshot;
use watch::{Watched, WatchedQueue};

/// The corpus must not silently shrink.
const MIN_CASES: usize = 200;

struct System {
    router: Router,
    clock: Arc<ManualClock>,
    endpoints: Arc<Watched<MemoryEndpointStore>>,
    idempotency: Arc<Watched<MemoryStateStore>>,
    failures: Arc<MemoryFailureStore>,
    queue: Arc<WatchedQueue>,
    endpoint_id: String,
}

/// Ingest and admin as a deployment runs them: signatures required, a bearer token, and
/// the deployment's URL policy (https only, public addresses only). One endpoint exists,
/// subscribed to everything, so anything wrongly accepted would be enqueued; and failure
/// records exist, so a bad replay request wrongly acted on would have something to replay.
async fn system() -> System {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
    ));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let queue = Arc::new(WatchedQueue::new(MemoryQueue::new(
        dyn_clock.clone(),
        QueueSettings::default(),
    )));
    let endpoints = Arc::new(Watched::new(MemoryEndpointStore::new()));
    let idempotency = Arc::new(Watched::new(MemoryStateStore::new()));
    let failures = Arc::new(MemoryFailureStore::new());
    let policy = UrlPolicy {
        allow_http: false,
        allow_private: false,
    };
    let (endpoint, _) = parse_new(
        &json!({"url": "https://hooks.example.com/in", "event_types": ["*"]}),
        &policy,
        clock.now(),
        &mut || 42,
        [1; 32],
    )
    .unwrap();
    endpoints.inner.put(&endpoint).await.unwrap();
    seed_failures(&failures, &endpoint.id, clock.now()).await;
    let built = MemoryBackend::new(dyn_clock.clone(), QueueSettings::default())
        .builder(
            dyn_clock.clone(),
            Arc::new(SeededEntropy::new(3)),
            Arc::new(ScriptedSender::new(dyn_clock)),
        )
        .with(|ports| {
            ports.endpoints = endpoints.clone();
            ports.idempotency = idempotency.clone();
            ports.failures = failures.clone();
            ports.queue = queue.clone();
        })
        .settings(Settings {
            ingest: IngestSettings {
                secret: Some(Secret::parse(INGEST_SECRET).unwrap()),
                ..IngestSettings::default()
            },
            admin: AdminSettings {
                policy,
                rotation_grace: Duration::from_secs(24 * 3600),
                ..AdminSettings::default()
            },
            admin_token: Some(ADMIN_TOKEN.into()),
            ..Settings::default()
        })
        .build();
    let router = not_found_fallback(built.ingest_router().merge(built.admin_router()));
    System {
        router,
        clock,
        endpoints,
        idempotency,
        failures,
        queue,
        endpoint_id: endpoint.id.to_string(),
    }
}

/// Failure records for a bulk or single replay to act on: two of the setup's endpoint, one
/// of another endpoint, and one already replayed (which only a single replay would redo).
async fn seed_failures(
    failures: &MemoryFailureStore,
    endpoint: &EndpointId,
    now: chrono::DateTime<Utc>,
) {
    let other = EndpointId::parse("ep_other").unwrap();
    let seeds = [
        ("evt_seed_1", endpoint, false),
        ("evt_seed_2", endpoint, false),
        ("evt_seed_3", &other, false),
        ("evt_seed_4", endpoint, true),
    ];
    for (event_id, endpoint_id, replayed) in seeds {
        let event: Event = serde_json::from_value(json!({
            "id": event_id, "type": "user.created", "timestamp": "2026-11-22T09:00:00Z",
            "data": {"user": {"id": "u_1"}}
        }))
        .unwrap();
        let record = FailureRecord::new(
            DeliveryJob::new(event, endpoint_id.clone()),
            FailureReason::Exhausted,
            now - chrono::Duration::hours(1),
        );
        assert!(failures.record(&record).await.unwrap());
        if replayed {
            let at = now - chrono::Duration::minutes(30);
            failures.mark_replayed(&record.id, at).await.unwrap();
        }
    }
}

/// Sends one case in its own task, so that a panic is reported with the case's file name.
async fn run(s: &System, case: &Case) -> Vec<String> {
    let body = case.body();
    let mut request = Request::builder()
        .method(case.method())
        .uri(case.path(&s.endpoint_id));
    for (name, value) in case.headers(&body, s.clock.now().timestamp()) {
        request = request.header(name, value);
    }
    let request = request.body(Body::from(body)).unwrap();
    let router = s.router.clone();
    let answer = tokio::spawn(async move {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, content_type, bytes)
    })
    .await;
    match answer {
        Ok((status, content_type, bytes)) => check(case, status, content_type.as_deref(), &bytes),
        Err(e) => vec![format!("panicked: {e}")],
    }
}

async fn run_corpus(kind: &str) -> usize {
    let cases = load(kind);
    let s = system().await;
    let mut failures = Vec::new();
    for case in &cases {
        let before = snapshot(&s).await;
        let mut problems = run(&s, case).await;
        let after = snapshot(&s).await;
        problems.extend(before.changes(&after));
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", case.file)));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("bad input: {} {kind} cases passed", cases.len());
    cases.len()
}

#[tokio::test]
async fn every_bad_ingest_request_is_refused_and_changes_nothing() {
    assert!(run_corpus("ingest").await >= 100);
}

#[tokio::test]
async fn every_bad_admin_request_is_refused_and_changes_nothing() {
    assert!(run_corpus("admin").await >= 100);
}

#[test]
fn the_corpus_has_at_least_200_cases() {
    let (ingest, admin) = (load("ingest").len(), load("admin").len());
    eprintln!("bad input corpus: {ingest} ingest + {admin} admin cases");
    assert!(ingest + admin >= MIN_CASES, "only {} cases", ingest + admin);
}
