//! Eight workers running `Worker::deliver` at once against one endpoint's state: the token
//! bucket never over-spends (no refill can happen in the window, so exactly `burst` go) and
//! no circuit update is lost (the consecutive-failure count comes out exact), on the
//! in-memory store and on DynamoDB (moto). resilience.rs and aws_pipeline.rs race two.
//! Each worker stands for a process of its own, so each has its own count of attempts in
//! flight (a shared count would cap the eight together, as one process's would).

use std::sync::Arc;

use serde_json::json;

use authhooks::app::deliver::WorkerSettings;
use authhooks::domain::circuit::CircuitState;
use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::endpoint::{Endpoint, UrlPolicy};
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::event::Event;
use authhooks::ports::Received;
use authhooks::ports::{
    Clock, EndpointStateStore, EndpointStore, Entropy, SystemClock, SystemEntropy,
};
use authhooks::system::Settings;
use authhooks_tests::moto::aws_world;
use authhooks_tests::sender::{status, ScriptedSender};
use authhooks_tests::World;

const WORKERS: usize = 8;
const LIMITED: &str = "http://limited.test/hook";
const FAILING: &str = "http://failing.test/hook";
const SHY: &str = "http://shy.test/hook";

/// A burst of 20 refilling once per 1000 s: no token comes back during the test.
fn limited_spec() -> serde_json::Value {
    json!({"url": LIMITED, "event_types": ["*"],
           "rate_limit": {"requests_per_second": 0.001, "burst_size": 20}})
}

/// Opens at exactly 8 × 3 = 24 consecutive failures.
fn failing_spec() -> serde_json::Value {
    json!({"url": FAILING, "event_types": ["*"],
           "circuit": {"failure_threshold": 24, "success_threshold": 1, "open_timeout_secs": 600, "half_open_max_requests": 1}})
}

/// One failure short of opening: the count itself must come out at 24.
fn shy_spec() -> serde_json::Value {
    json!({"url": SHY, "event_types": ["*"],
           "circuit": {"failure_threshold": 25, "success_threshold": 1, "open_timeout_secs": 600, "half_open_max_requests": 1}})
}

fn endpoint(spec: &serde_json::Value) -> Endpoint {
    let entropy = SystemEntropy;
    let policy = UrlPolicy {
        allow_http: true,
        allow_private: true,
    };
    parse_new(
        spec,
        &policy,
        SystemClock.now(),
        &mut || entropy.u128(),
        entropy.bytes32(),
    )
    .unwrap()
    .0
}

fn jobs(endpoint: &Endpoint, prefix: &str, n: usize) -> Vec<Received<DeliveryJob>> {
    (0..n)
        .map(|i| {
            let event: Event = serde_json::from_value(json!({
                "id": format!("{prefix}_{i}"), "type": "user.updated",
                "timestamp": "2026-11-22T10:00:00Z", "data": {}
            }))
            .unwrap();
            let job = DeliveryJob::new(event, endpoint.id.clone());
            Received::decode(
                format!("{prefix}_{i}_{}", endpoint.id),
                String::new(),
                &serde_json::to_string(&job).unwrap(),
            )
        })
        .collect()
}

/// Each worker's batch: 5 jobs for the limited endpoint, 3 for each failing one.
fn batch(
    w: usize,
    limited: &Endpoint,
    failing: &Endpoint,
    shy: &Endpoint,
) -> Vec<Received<DeliveryJob>> {
    let mut batch = jobs(limited, &format!("w{w}_l"), 5);
    batch.extend(jobs(failing, &format!("w{w}_f"), 3));
    batch.extend(jobs(shy, &format!("w{w}_s"), 3));
    batch
}

fn script(sender: &ScriptedSender) {
    sender.script(LIMITED, Box::new(|_| status(200)));
    sender.script(FAILING, Box::new(|_| status(500)));
    sender.script(SHY, Box::new(|_| status(503)));
}

async fn check(
    sender: &ScriptedSender,
    state: &dyn EndpointStateStore,
    failing: &Endpoint,
    shy: &Endpoint,
    round: usize,
) {
    assert_eq!(
        sender.sent_to(LIMITED).len(),
        20,
        "round {round}: forty jobs wanted a burst of twenty"
    );
    assert_eq!(sender.sent_to(FAILING).len(), 24, "round {round}");
    assert_eq!(sender.sent_to(SHY).len(), 24, "round {round}");
    let opened = state.load(&failing.id).await.unwrap().value.circuit;
    assert!(
        matches!(opened, CircuitState::Open { .. }),
        "round {round}: 24 failures from eight workers must open it, got {opened:?}"
    );
    let counted = state.load(&shy.id).await.unwrap().value.circuit;
    assert_eq!(
        counted,
        CircuitState::Closed { failures: 24 },
        "round {round}: no worker's failures may be overwritten"
    );
}

#[test]
fn eight_threads_on_the_memory_store_never_overspend_nor_lose_a_transition() {
    for round in 0..20 {
        let world = Arc::new(World::new());
        let specs = [limited_spec(), failing_spec(), shy_spec()];
        let [limited, failing, shy] =
            specs.map(|s| futures::executor::block_on(world.add_endpoint(s)).0);
        script(&world.sender);
        let threads: Vec<_> = (0..WORKERS)
            .map(|w| {
                let mut worker = (*world.system.worker).clone();
                worker.in_flight = Arc::default();
                let batch = batch(w, &limited, &failing, &shy);
                std::thread::spawn(move || {
                    let report = futures::executor::block_on(worker.deliver(batch));
                    assert!(report.failed.is_empty(), "{report:?}");
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        futures::executor::block_on(check(
            &world.sender,
            world.state.as_ref(),
            &failing,
            &shy,
            round,
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_tasks_on_dynamodb_never_overspend_nor_lose_a_transition() {
    // Sixteen writes (admit and record, per worker) race on each endpoint's item, with the
    // workers' default number of compare-and-set rounds.
    race_on_dynamodb(WorkerSettings::default().cas_rounds, 3).await;
}

async fn race_on_dynamodb(cas_rounds: u32, rounds: usize) {
    for round in 0..rounds {
        let world = Arc::new(aws_world().await);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let sender = Arc::new(ScriptedSender::new(clock));
        script(&sender);
        let [limited, failing, shy] =
            [limited_spec(), failing_spec(), shy_spec()].map(|s| endpoint(&s));
        for e in [&limited, &failing, &shy] {
            world.endpoints.put(e).await.unwrap();
        }
        let settings = Settings {
            worker: WorkerSettings {
                cas_rounds,
                ..WorkerSettings::default()
            },
            ..Settings::default()
        };
        let worker = world
            .backend
            .deployed(sender.clone())
            .settings(settings)
            .build()
            .worker;
        let tasks: Vec<_> = (0..WORKERS)
            .map(|w| {
                let mut worker = (*worker).clone();
                worker.in_flight = Arc::default();
                let batch = batch(w, &limited, &failing, &shy);
                tokio::spawn(async move {
                    let report = worker.deliver(batch).await;
                    assert!(report.failed.is_empty(), "{report:?}");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        check(&sender, &world.state, &failing, &shy, round).await;
    }
}
