//! Fan-out of any size with bounded work (issue 15, finding 1): above the threshold ingest
//! enqueues fan-out tasks instead of a job per endpoint, workers expand them a page at a
//! time, every endpoint still gets each event exactly once, a subject's events reach each
//! ordered endpoint in order, the in-memory queue never holds more than its backlog bound
//! plus a page, and a task the queue gives up on comes back instead of being lost.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use authhooks::app::ingest::Accepted;
use authhooks::domain::fanout::{FanOutMessage, FanOutSettings, FanOutTask};
use authhooks::domain::trace::TraceParent;
use authhooks::system::Settings;
use authhooks_tests::sender::{status, Sent};
use authhooks_tests::World;

const HOUR: Duration = Duration::from_secs(3600);

/// Small numbers, so a test of a few dozen endpoints crosses every threshold.
fn world(inline_max: usize, page: usize, max_backlog: usize) -> World {
    let fan_out = FanOutSettings {
        inline_max,
        page,
        max_backlog,
        ..FanOutSettings::default()
    };
    let mut settings = Settings::permissive();
    settings.ingest.fan_out = fan_out;
    settings.worker.fan_out = fan_out;
    World::with_settings(settings)
}

/// `n` endpoints answering 200 at `http://<name>-<i>.test/`, each with `body`'s settings.
async fn endpoints(world: &World, name: &str, n: usize, body: Value) -> Vec<String> {
    let mut urls = Vec::new();
    for i in 0..n {
        let url = format!("http://{name}-{i}.test/");
        let mut spec = body.clone();
        spec["url"] = json!(url);
        world.add_endpoint(spec).await;
        world.sender.script(&url, Box::new(|_| status(200)));
        urls.push(url);
    }
    urls
}

fn event_of(sent: &Sent) -> Value {
    serde_json::from_slice(&sent.body).unwrap()
}

/// (url, event id) → how many 2xx deliveries.
fn deliveries(world: &World) -> HashMap<(String, String), usize> {
    let mut got = HashMap::new();
    for sent in world.sender.sent() {
        let id = event_of(&sent)["id"].as_str().unwrap().to_owned();
        *got.entry((sent.url.clone(), id)).or_default() += 1;
    }
    got
}

#[tokio::test]
async fn a_fan_out_above_the_threshold_reaches_every_endpoint_once_in_pages() {
    let world = world(5, 3, 10_000);
    let urls = endpoints(
        &world,
        "all",
        23,
        json!({"event_types": ["*"], "ordering": "none"}),
    )
    .await;
    endpoints(
        &world,
        "other",
        2,
        json!({"event_types": ["session.*"], "ordering": "none"}),
    )
    .await;
    let events: Vec<Value> = (0..3)
        .map(|n| json!({"id": format!("evt_{n}"), "type": "user.updated", "data": {"n": n}}))
        .collect();
    let answers = world.ingest(&json!({ "events": events })).await.unwrap();
    assert!(answers
        .iter()
        .all(|a: &Accepted| a.deliveries == 23 && !a.duplicate));
    // Ingest did a bounded amount of work: one task per event, no job per endpoint.
    assert_eq!(world.queue.len(), 3, "ingest enqueued jobs itself");

    world.run_until_idle(HOUR).await;
    let got = deliveries(&world);
    for url in &urls {
        for n in 0..3 {
            let key = (url.clone(), format!("evt_{n}"));
            assert_eq!(got.get(&key), Some(&1), "{key:?}");
        }
    }
    assert_eq!(got.len(), 23 * 3, "nothing went to the other endpoints");
    assert_eq!(world.worker_totals().fanned_out, 23 * 3);
}

#[tokio::test]
async fn a_replayed_fan_out_sends_nothing_twice() {
    let world = world(5, 4, 10_000);
    endpoints(
        &world,
        "all",
        12,
        json!({"event_types": ["*"], "ordering": "none"}),
    )
    .await;
    let event = json!({"id": "evt_once", "type": "user.updated", "data": {}});
    world.ingest(&event).await.unwrap();
    world.run_until_idle(HOUR).await;
    world.ingest(&event).await.unwrap();
    world.run_until_idle(HOUR).await;
    let got = deliveries(&world);
    assert_eq!(got.len(), 12);
    assert!(got.values().all(|&n| n == 1), "{got:?}");
}

#[tokio::test]
async fn a_subjects_events_reach_each_ordered_endpoint_in_order_through_the_tasks() {
    let world = world(5, 3, 10_000);
    // Twelve ordered endpoints take every user event; two of them also take deletes alone,
    // so a delete has only two targets while the deployment has twelve ordered endpoints.
    let all = endpoints(&world, "all", 10, json!({"event_types": ["user.updated"]})).await;
    let both = endpoints(&world, "both", 2, json!({"event_types": ["user.*"]})).await;
    let changes = [
        ("user.updated", "name 1"),
        ("user.deleted", "gone"),
        ("user.updated", "name 2"),
        ("user.deleted", "gone again"),
        ("user.updated", "name 3"),
    ];
    for (n, (kind, name)) in changes.iter().enumerate() {
        let event = json!({
            "id": format!("evt_c{n}"), "type": kind, "subject": "u_1",
            "data": {"name": name}
        });
        world.ingest(&event).await.unwrap();
    }
    // Nothing went to an endpoint's line directly: each event is in partition tasks.
    assert_eq!(world.queue.len(), 0);
    assert!(world.ordered.len() >= changes.len());

    world.run_until_idle(HOUR).await;
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for sent in world.sender.sent() {
        let sequence = event_of(&sent)["sequence"].as_u64().unwrap();
        seen.entry(sent.url.clone()).or_default().push(sequence);
    }
    for url in all.iter().chain(&both) {
        let got = &seen[url];
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(
            got, &sorted,
            "{url} received the subject's events out of order"
        );
    }
    for url in &all {
        assert_eq!(seen[url].len(), 3, "{url}");
    }
    for url in &both {
        assert_eq!(seen[url].len(), 5, "{url}");
    }
}

#[tokio::test]
async fn the_queue_in_memory_holds_no_more_than_its_backlog_bound_and_a_page() {
    let (max_backlog, page) = (10, 20);
    let world = world(5, page, max_backlog);
    endpoints(
        &world,
        "all",
        60,
        json!({"event_types": ["*"], "ordering": "none"}),
    )
    .await;
    let events: Vec<Value> = (0..20)
        .map(|n| json!({"id": format!("evt_{n}"), "type": "user.updated", "data": {}}))
        .collect();
    world.ingest(&json!({ "events": events })).await.unwrap();
    let mut most = 0;
    // Pumped round by round, jumping the clock when only waiting tasks are left.
    for _ in 0..10_000 {
        most = most.max(world.queue.len());
        if !world.step().await {
            match world.queue.next_visible_at() {
                Some(at) => world.clock.advance_to(at),
                None => break,
            }
        }
    }
    assert!(world.queue.is_empty(), "not drained");
    assert_eq!(deliveries(&world).len(), 60 * 20);
    // A batch of ten is in hand while its tasks add their pages: the bound, plus a page and
    // the next task per task in that batch. Without the bound, the first two batches alone
    // (twenty tasks) would add 420.
    let bound = max_backlog + 10 * (page + 1);
    assert!(
        most <= bound,
        "the queue held {most} messages; the bound is {bound}"
    );
}

#[tokio::test]
async fn a_fan_out_task_the_queue_gave_up_on_is_sent_back_not_lost() {
    let world = world(5, 3, 10_000);
    endpoints(
        &world,
        "all",
        7,
        json!({"event_types": ["*"], "ordering": "none"}),
    )
    .await;
    // A task as the queue would redrive it after too many failed expansions.
    let event = json!({
        "id": "evt_redriven", "type": "user.updated", "timestamp": "2026-11-22T10:00:00Z",
        "data": {}
    });
    let task = FanOutTask {
        event: serde_json::from_value(event).unwrap(),
        partition: None,
        after: None,
        trace: None,
    };
    let body = serde_json::to_string(&FanOutMessage { fan_out: task }).unwrap();
    world.dlq.send(body, Duration::ZERO);
    world.run_until_idle(HOUR).await;
    assert_eq!(deliveries(&world).len(), 7);
    assert_eq!(
        world.recorder_totals().recorded,
        0,
        "a task is no failed delivery"
    );
}

/// On real SQS (moto): an unordered task on the standard queue, ordered tasks in their lines
/// on the FIFO queue (`#fanout…` group ids), each page expanded by the worker function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_tasks_travel_through_sqs_standard_and_fifo() {
    use authhooks_tests::lambda::AwsPipeline;
    use authhooks_tests::moto::QueueOptions;
    use authhooks_tests::Receiver;

    let pipeline = AwsPipeline::start_with(QueueOptions::default(), |settings| {
        let fan_out = FanOutSettings {
            inline_max: 3,
            page: 2,
            ..FanOutSettings::default()
        };
        settings.ingest.fan_out = fan_out;
        settings.worker.fan_out = fan_out;
    })
    .await;
    let receiver = Receiver::start().await;
    for i in 0..5 {
        for ordering in ["subject", "none"] {
            let url = format!("{}/{ordering}/{i}", receiver.url());
            let spec = json!({"url": url, "event_types": ["user.*"], "ordering": ordering});
            pipeline.add_endpoint(spec).await;
        }
    }
    let event = json!({"id": "evt_fan", "type": "user.updated", "subject": "u_1", "data": {}});
    let (status, body) = pipeline.post_event(&event).await;
    assert_eq!(status, axum::http::StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"][0]["deliveries"], 10);

    pipeline
        .run_until("ten deliveries", Duration::from_secs(60), || async {
            receiver.requests().len() >= 10
        })
        .await;
    let mut paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 10, "{paths:?}");
}

#[tokio::test]
async fn a_fan_out_carries_the_producers_trace_to_every_delivery() {
    let world = world(2, 2, 10_000);
    let urls = endpoints(
        &world,
        "none",
        5,
        json!({"event_types": ["*"], "ordering": "none"}),
    )
    .await;
    let ordered = endpoints(&world, "ordered", 3, json!({"event_types": ["*"]})).await;
    let trace = TraceParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        None,
    )
    .unwrap();
    let body = json!({"id": "evt_traced", "type": "user.updated", "subject": "u1", "data": {}});
    let bytes = serde_json::to_vec(&body).unwrap();
    world
        .system
        .ingest
        .ingest(&bytes, None, Some(&trace))
        .await
        .unwrap();
    assert_eq!(
        world.queue.len(),
        1,
        "one unordered task, not a job per endpoint"
    );
    world.run_until_idle(HOUR).await;
    let sent = world.sender.sent();
    assert_eq!(sent.len(), urls.len() + ordered.len());
    for delivery in &sent {
        let header = delivery.header("traceparent").unwrap_or_else(|| {
            panic!(
                "{} got no traceparent: {:?}",
                delivery.url, delivery.headers
            )
        });
        assert!(
            header.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{}: {header}",
            delivery.url
        );
    }
}
