//! Circuit breaking, rate limiting, races between workers and failures half-way through
//! ingest, over the in-memory adapters with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use authhooks::app::ingest::IngestError;
use authhooks::domain::circuit::CircuitState;
use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::event::Event;
use authhooks::ports::Received;
use authhooks::ports::{DeliveryQueue, EndpointStateStore, Enqueue, PortError};
use authhooks_tests::sender::status;
use authhooks_tests::World;

const HOUR: Duration = Duration::from_secs(3600);

fn event(id: &str) -> serde_json::Value {
    json!({"id": id, "type": "session.revoked", "data": {"session": {"id": "s_1"}}})
}

#[tokio::test]
async fn an_open_circuit_defers_without_counting_attempts_then_half_opens_and_recovers() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({
            "url": "http://a.test/hook", "event_types": ["*"],
            "circuit": {"failure_threshold": 3, "success_threshold": 2, "open_timeout_secs": 60, "half_open_max_requests": 3},
            "retry": {"schedule_secs": [1, 1, 1, 1, 1]}
        }))
        .await;
    world.sender.script(
        "http://a.test/hook",
        Box::new(|n| status(if n <= 3 { 503 } else { 200 })),
    );

    // Three failures in a row open the circuit.
    world.ingest(&event("evt_0")).await.unwrap();
    for _ in 0..3 {
        world.step().await;
        world.clock.advance(Duration::from_secs(1));
    }
    let opened = world.state.load(&endpoint.id).await.unwrap().value.circuit;
    let CircuitState::Open { opened_at, .. } = opened else {
        panic!("expected an open circuit, got {opened:?}");
    };

    // Everything that arrives while it is open waits; nothing is sent, nothing counted.
    for i in 1..=5 {
        world.ingest(&event(&format!("evt_{i}"))).await.unwrap();
    }
    world.run_until_idle(HOUR).await;

    let sent = world.sender.sent();
    assert_eq!(sent.len(), 3 + 6, "three failures, then every event once");
    let reopened_at = opened_at + chrono::Duration::seconds(60);
    assert!(
        sent[3..].iter().all(|s| s.at >= reopened_at),
        "nothing went while open"
    );
    // evt_0 was on its fourth attempt; the deferrals were not counted as attempts.
    let mut attempts: Vec<(String, String)> = sent[3..]
        .iter()
        .map(|s| {
            let e: Event = serde_json::from_slice(&s.body).unwrap();
            (
                e.id.to_string(),
                s.header("webhook-attempt").unwrap().to_owned(),
            )
        })
        .collect();
    attempts.sort();
    assert_eq!(attempts[0], ("evt_0".to_owned(), "4".to_owned()));
    assert!(attempts[1..].iter().all(|(_, n)| n == "1"));

    let totals = world.worker_totals();
    assert!(
        totals.totals.deferred_circuit >= 6,
        "deferred {}",
        totals.totals.deferred_circuit
    );
    assert_eq!(totals.totals.delivered, 6);
    assert_eq!(totals.totals.dead_lettered, 0);
    let closed = world.state.load(&endpoint.id).await.unwrap().value.circuit;
    assert_eq!(closed, CircuitState::Closed { failures: 0 });
}

#[tokio::test]
async fn an_endpoint_limited_to_one_per_second_still_receives_every_event() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": "http://a.test/hook", "event_types": ["*"],
            "rate_limit": {"requests_per_second": 1, "burst_size": 1}
        }))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    let events: Vec<_> = (0..20).map(|i| event(&format!("evt_{i}"))).collect();
    world.ingest(&json!({ "events": events })).await.unwrap();

    world.run_until_idle(HOUR).await;

    let sent = world.sender.sent();
    assert_eq!(sent.len(), 20);
    let mut ids: Vec<String> = sent
        .iter()
        .map(|s| s.header("webhook-id").unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "every event exactly once");
    assert!(sent
        .iter()
        .all(|s| s.header("webhook-attempt") == Some("1")));
    for pair in sent.windows(2) {
        let gap = (pair[1].at - pair[0].at).num_milliseconds();
        assert!(gap >= 1000, "two deliveries {gap} ms apart");
    }
    assert!(world.worker_totals().totals.deferred_rate >= 19);
}

/// Runs `Worker::deliver` on its own thread, so two workers really race on the store.
fn worker_thread(world: Arc<World>, jobs: Vec<DeliveryJob>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let received = jobs
            .iter()
            .map(|job| {
                Received::decode(
                    job.delivery_id.to_string(),
                    String::new(),
                    &serde_json::to_string(job).unwrap(),
                )
            })
            .collect();
        let report = futures::executor::block_on(world.system.worker.deliver(received));
        assert!(report.failed.is_empty(), "{report:?}");
    })
}

fn jobs_for(
    endpoint: &authhooks::domain::endpoint::Endpoint,
    prefix: &str,
    n: usize,
) -> Vec<DeliveryJob> {
    (0..n)
        .map(|i| {
            let event: Event = serde_json::from_value(json!({
                "id": format!("{prefix}_{i}"), "type": "user.updated",
                "timestamp": "2026-11-22T10:00:00Z", "data": {}
            }))
            .unwrap();
            DeliveryJob::new(event, endpoint.id.clone())
        })
        .collect()
}

#[test]
fn racing_workers_never_overspend_a_bucket_nor_lose_a_circuit_transition() {
    for round in 0..50 {
        let world = Arc::new(World::new());
        let (limited, _) = futures::executor::block_on(world.add_endpoint(json!({
            "url": "http://limited.test/hook", "event_types": ["*"],
            "rate_limit": {"requests_per_second": 0.01, "burst_size": 5}
        })));
        let (failing, _) = futures::executor::block_on(world.add_endpoint(json!({
            "url": "http://failing.test/hook", "event_types": ["*"],
            "circuit": {"failure_threshold": 8, "success_threshold": 1, "open_timeout_secs": 60, "half_open_max_requests": 1}
        })));
        world
            .sender
            .script("http://limited.test/hook", Box::new(|_| status(200)));
        world
            .sender
            .script("http://failing.test/hook", Box::new(|_| status(500)));

        let workers: Vec<_> = (0..2)
            .map(|w| {
                let mut jobs = jobs_for(&limited, &format!("r{round}_l{w}"), 5);
                jobs.extend(jobs_for(&failing, &format!("r{round}_f{w}"), 4));
                worker_thread(world.clone(), jobs)
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }

        // Ten jobs wanted a burst of five: exactly five went, five wait for tokens.
        assert_eq!(
            world.sender.sent_to("http://limited.test/hook").len(),
            5,
            "round {round}"
        );
        // Eight failures across two workers reach the threshold of eight only if neither
        // worker's update overwrote the other's.
        assert_eq!(world.sender.sent_to("http://failing.test/hook").len(), 8);
        let state = futures::executor::block_on(world.state.load(&failing.id)).unwrap();
        assert!(
            matches!(state.value.circuit, CircuitState::Open { .. }),
            "round {round}: {:?}",
            state.value.circuit
        );
    }
}

/// A queue that accepts the first `ok` calls and is down after that.
struct FlakyQueue {
    inner: Arc<authhooks::adapters::memory::MemoryQueue>,
    ok: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl DeliveryQueue for FlakyQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        // Half the jobs land before the failure, as when a batch call fails mid-way.
        let left = self.ok.load(std::sync::atomic::Ordering::SeqCst);
        if left == 0 {
            let half = jobs.len() / 2;
            self.inner
                .enqueue(jobs.into_iter().take(half).collect())
                .await?;
            return Err(PortError::Unavailable("queue down".into()));
        }
        self.ok.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.enqueue(jobs).await
    }
}

#[tokio::test]
async fn a_queue_failure_half_way_through_fan_out_loses_and_duplicates_nothing() {
    let world = World::new();
    for name in ["a", "b", "c", "d"] {
        world
            .add_endpoint(json!({"url": format!("http://{name}.test/hook"), "event_types": ["*"]}))
            .await;
        world.sender.script(
            &format!("http://{name}.test/hook"),
            Box::new(|_| status(200)),
        );
    }
    let flaky = FlakyQueue {
        inner: world.queue.clone(),
        ok: 0.into(),
    };
    let failed = world.ingest_with(Arc::new(flaky), &event("evt_half")).await;
    assert!(
        matches!(failed, Err(IngestError::Unavailable(_))),
        "{failed:?}"
    );
    assert_eq!(
        world.queue.len(),
        2,
        "half the jobs made it before the failure"
    );

    // The two that made it are delivered before the producer retries.
    world.run_until_idle(HOUR).await;
    assert_eq!(world.sender.sent().len(), 2);

    // The retry is not taken for a duplicate: the two deliveries without a record are
    // enqueued, and only those.
    let retried = world.ingest(&event("evt_half")).await.unwrap();
    assert!(!retried[0].duplicate);
    assert_eq!(retried[0].deliveries, 4);
    // A revocation: its deliveries take the priority lane.
    assert_eq!(world.priority.len(), 2);
    world.run_until_idle(HOUR).await;

    let sent = world.sender.sent();
    let mut urls: Vec<&str> = sent.iter().map(|s| s.url.as_str()).collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            "http://a.test/hook",
            "http://b.test/hook",
            "http://c.test/hook",
            "http://d.test/hook"
        ],
        "each endpoint exactly once"
    );
    let again = world.ingest(&event("evt_half")).await.unwrap();
    assert!(again[0].duplicate);
}
