//! Receivers that never answer cannot starve the others (issue #15, finding 2): local mode
//! delivers a healthy endpoint's event while several endpoints' attempts hang, each
//! endpoint has a cap on attempts in flight (jobs over it wait, no attempt counted), and a
//! timed-out attempt counts toward its endpoint's circuit when it ends. Ordering, not speed,
//! is asserted: the healthy delivery arrives before any hanging attempt could have ended.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::app::Worker;
use authhooks::domain::circuit::CircuitState;
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::in_flight::DEFAULT_MAX_IN_FLIGHT;
use authhooks::local::pump::received;
use authhooks::ports::EndpointStateStore;
use authhooks_tests::local::LocalServer;
use authhooks_tests::receiver::Reply;
use authhooks_tests::{Receiver, World};

const ADMIN_TOKEN: &str = "slow-receivers-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Far beyond any endpoint timeout: these receivers never answer in time.
const NEVER: Duration = Duration::from_secs(120);

async fn hanging_receiver() -> Receiver {
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(200).after(NEVER));
    receiver
}

async fn ingest(local: &LocalServer, event: &Value) {
    let (status, answer, _) = local.ingest(event.to_string().as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_endpoint_is_delivered_while_several_endpoints_hang() {
    // One consumer per queue: before, it waited for its whole batch, slowest attempt included.
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let timeout = Duration::from_secs(3);

    let mut hanging = Vec::new();
    for _ in 0..4 {
        let receiver = hanging_receiver().await;
        let spec = json!({"url": receiver.url(), "event_types": ["user.updated"],
                          "timeout_ms": timeout.as_millis()});
        local.create_endpoint(&spec).await;
        hanging.push(receiver);
    }
    let healthy = Receiver::start().await;
    let spec = json!({"url": healthy.url(), "event_types": ["user.created"]});
    local.create_endpoint(&spec).await;

    ingest(
        &local,
        &json!({"id": "evt_hang_1", "type": "user.updated", "data": {}}),
    )
    .await;
    let mut first_hang = None;
    for receiver in &hanging {
        let at = receiver.wait_for(1, Duration::from_secs(10)).await[0].received_at;
        first_hang = Some(first_hang.map_or(at, |t: chrono::DateTime<chrono::Utc>| t.min(at)));
    }
    let first_hang = first_hang.unwrap();

    // Every hanging attempt is in flight now; the healthy endpoint's event comes after them.
    ingest(
        &local,
        &json!({"id": "evt_ok_1", "type": "user.created", "data": {}}),
    )
    .await;
    let delivered = healthy.wait_for(1, Duration::from_secs(10)).await[0].received_at;
    let still_hanging: Vec<usize> = hanging.iter().map(|r| r.requests().len()).collect();
    local.running.shutdown().await;

    let cannot_end_before = first_hang + chrono::Duration::from_std(timeout).unwrap();
    assert!(
        delivered < cannot_end_before,
        "the healthy delivery waited for the hanging attempts: delivered at {delivered}, \
         the first hanging attempt started at {first_hang} with a {timeout:?} timeout"
    );
    assert_eq!(
        still_hanging,
        [1, 1, 1, 1],
        "no hanging attempt was retried yet"
    );
}

/// A worker over the world's stores that sends over real HTTP (real timeouts), with at
/// most `cap` attempts in flight per endpoint.
fn http_worker(world: &World, cap: u32) -> Arc<Worker> {
    let sender = HttpSender::new(SenderConfig {
        allow_private: true,
        ..SenderConfig::default()
    })
    .unwrap();
    let mut builder = world
        .builder()
        .with(|ports| ports.sender = Arc::new(sender));
    builder.settings.worker.max_in_flight = cap;
    builder.build().worker
}

async fn hanging_endpoint(world: &World, receiver: &Receiver, extra: Value) -> Endpoint {
    let mut spec = json!({"url": receiver.url(), "event_types": ["*"], "timeout_ms": 500});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    world.add_endpoint(spec).await.0
}

async fn ingest_n(world: &World, prefix: &str, n: usize) {
    for i in 0..n {
        let event = json!({"id": format!("evt_{prefix}_{i}"), "type": "user.updated", "data": {}});
        world.ingest(&event).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_never_has_more_attempts_in_flight_than_its_cap() {
    let world = World::new();
    let receiver = hanging_receiver().await;
    let endpoint = hanging_endpoint(&world, &receiver, json!({})).await;
    // Below a batch's worth, so that one batch shows it (the default is a whole batch).
    let cap = 3;
    let worker = http_worker(&world, u32::try_from(cap).unwrap());

    ingest_n(&world, "cap", cap + 2).await;
    let batch = received(&world.queue.receive(10));
    assert_eq!(batch.len(), cap + 2);
    let first = tokio::spawn({
        let worker = worker.clone();
        async move { worker.deliver(batch).await }
    });
    receiver.wait_for(cap, Duration::from_secs(10)).await;

    // While those hang, another batch for the same endpoint finds no slot: deferred at once,
    // nothing sent, no attempt counted.
    ingest_n(&world, "more", 1).await;
    let second = worker.deliver(received(&world.queue.receive(10))).await;
    assert_eq!(second.totals.deferred_busy, 1, "{second:?}");
    assert_eq!(second.endpoints[&endpoint.id].latencies_ms.len(), 0);
    assert_eq!(receiver.requests().len(), cap);

    let first = first.await.unwrap();
    assert_eq!(first.totals.deferred_busy, 2, "{first:?}");
    assert_eq!(first.endpoints[&endpoint.id].latencies_ms.len(), cap);
    assert_eq!(
        receiver.requests().len(),
        cap,
        "jobs over the cap were sent"
    );
    // Its slots are free again once the attempts ended.
    assert_eq!(worker.in_flight.running(&endpoint.id), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_attempt_counts_toward_its_circuit_when_it_ends() {
    let world = World::new();
    let receiver = hanging_receiver().await;
    let circuit = json!({"circuit": {"failure_threshold": 1}});
    let endpoint = hanging_endpoint(&world, &receiver, circuit).await;
    let worker = http_worker(&world, DEFAULT_MAX_IN_FLIGHT);

    ingest_n(&world, "timeout", 1).await;
    let batch = received(&world.queue.receive(10));
    let attempt = tokio::spawn({
        let worker = worker.clone();
        async move { worker.deliver(batch).await }
    });
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let during = world.state.load(&endpoint.id).await.unwrap().value.circuit;
    assert_eq!(
        during,
        CircuitState::Closed { failures: 0 },
        "counted before it ended"
    );

    let report = attempt.await.unwrap();
    assert_eq!(report.totals.retried, 1, "{report:?}");
    let after = world.state.load(&endpoint.id).await.unwrap().value.circuit;
    assert!(
        matches!(after, CircuitState::Open { .. }),
        "a timed-out attempt left the circuit {after:?}"
    );
}
