//! Batched delivery (docs/architecture.md §3.15): an endpoint that opts in gets several
//! events in one POST, `{"events": [...]}`, signed once under a `bat_` id — in memory
//! (packing, waiting for company, the batch retried whole, the rate limit and the circuit
//! counting POSTs, ordered lines kept in order), in local mode over HTTP and over SQS on
//! moto, every POST checked by the reference Standard Webhooks verifiers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use authhooks::domain::outcome::AttemptResult;
use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::local::LocalServer;
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::oracle::verify_with_python;
use authhooks_tests::sender::{status, Sent};
use authhooks_tests::{Receiver, World};

const URL: &str = "http://batch.test/hook";
const ADMIN_TOKEN: &str = "batch-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn event(id: &str, subject: &str) -> Value {
    json!({"id": id, "type": "user.updated", "subject": subject, "data": {"user": {"id": subject}}})
}

/// The event ids a POST carried, in its order.
fn ids(body: &[u8]) -> Vec<String> {
    let body: Value = serde_json::from_slice(body).expect("a batch body is JSON");
    body["events"]
        .as_array()
        .expect("a batch body lists events")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ok(sent: &Sent) -> bool {
    matches!(sent.result, AttemptResult::Response { status: 200, .. })
}

#[tokio::test]
async fn a_batching_endpoint_gets_full_posts_and_a_short_one_after_its_wait() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 5, "max_wait_ms": 2000}}))
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    for n in 0..12 {
        world
            .ingest(&event(&format!("evt_{n:02}"), &format!("u_{n}")))
            .await
            .unwrap();
    }
    let accepted = world.now();
    world.run_until_idle(Duration::from_secs(3600)).await;

    let sent = world.sender.sent_to(URL);
    let sizes: Vec<usize> = sent.iter().map(|s| ids(&s.body).len()).collect();
    // Ten in the first receive: two full POSTs at once. The last two are too few and wait
    // (in one message, looked at again as the wait runs out) for their two seconds, then
    // go as they are.
    assert_eq!(sizes, [5, 5, 2], "{sent:?}");
    assert_eq!(sent[0].at, accepted, "a full POST does not wait");
    let waited = sent[2].at - accepted;
    assert!(
        waited >= chrono::Duration::seconds(2) && waited < chrono::Duration::milliseconds(2_100),
        "{waited}"
    );
    let mut all: Vec<String> = sent.iter().flat_map(|s| ids(&s.body)).collect();
    all.sort();
    let expected: Vec<String> = (0..12).map(|n| format!("evt_{n:02}")).collect();
    assert_eq!(all, expected, "every event exactly once");
    for s in &sent {
        let id = s.header("webhook-id").unwrap();
        assert!(id.starts_with("bat_"), "{id}");
        assert_eq!(s.header("webhook-attempt"), Some("1"));
        assert!(s.header("webhook-signature").unwrap().starts_with("v1,"));
    }
    let totals = world.worker_totals().totals;
    assert_eq!(totals.delivered, 12, "{totals:?}");
    // Looked at again halfway through what was left of the wait, each time.
    assert!(totals.gathering >= 2 * 7, "{totals:?}");
}

#[tokio::test]
async fn ingest_puts_a_submissions_events_together_for_a_batching_endpoint_only() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 3, "max_wait_ms": 0}}))
        .await;
    world
        .add_endpoint(
            json!({"url": "http://single.test/hook", "event_types": ["*"], "ordering": "none"}),
        )
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    world
        .sender
        .script("http://single.test/hook", Box::new(|_| status(200)));
    let events: Vec<Value> = (0..7)
        .map(|n| event(&format!("evt_{n}"), &format!("u_{n}")))
        .collect();
    world.ingest(&json!({"events": events})).await.unwrap();
    // 7 for the endpoint without batching; 3, 3 and 1 for the batching one.
    assert_eq!(world.queue.len(), 7 + 3);

    // A revocation among a batch takes the batch to the priority lane with it.
    world
        .ingest(&json!({"events": [event("evt_bulk", "u_9"),
            {"id": "evt_revoked", "type": "session.revoked", "subject": "u_9", "data": {}}]}))
        .await
        .unwrap();
    assert_eq!(world.priority.len(), 2, "the batch and the lone revocation");

    world.run_until_idle(Duration::from_secs(60)).await;
    let posts: Vec<usize> = world
        .sender
        .sent_to(URL)
        .iter()
        .map(|s| ids(&s.body).len())
        .collect();
    assert_eq!(posts.iter().sum::<usize>(), 9, "{posts:?}");
    assert!(posts.iter().all(|n| *n <= 3), "{posts:?}");
    assert_eq!(world.sender.sent_to("http://single.test/hook").len(), 9);
}

#[tokio::test]
async fn a_failed_batch_is_retried_whole_under_its_id_and_counts_once() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 3, "max_wait_ms": 0},
            "circuit": {"failure_threshold": 2}}))
        .await;
    world
        .sender
        .script(URL, Box::new(|n| status(if n == 1 { 503 } else { 200 })));
    for n in 0..3 {
        world
            .ingest(&event(&format!("evt_{n}"), "u_1"))
            .await
            .unwrap();
    }
    world.step().await;
    // One POST failed: one failure for the circuit (a threshold of two is not reached by
    // three events), and the three wait in one message.
    let state = world.system.worker.state.load(&endpoint.id).await.unwrap();
    assert_eq!(
        state.value.circuit,
        authhooks::domain::circuit::CircuitState::Closed { failures: 1 },
        "{state:?}"
    );
    assert_eq!(world.queue.len(), 1, "the batch goes back as one message");

    world.run_until_idle(Duration::from_secs(3600)).await;
    let sent = world.sender.sent_to(URL);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(ids(&sent[0].body), ids(&sent[1].body));
    assert_eq!(sent[0].header("webhook-id"), sent[1].header("webhook-id"));
    assert_eq!(sent[1].header("webhook-attempt"), Some("2"));
    assert!(ok(&sent[1]));
    assert_eq!(world.worker_totals().totals.delivered, 3);
}

#[tokio::test]
async fn the_rate_limit_spends_a_token_a_post() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 3, "max_wait_ms": 0},
            "rate_limit": {"requests_per_second": 1, "burst_size": 1}}))
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    for n in 0..6 {
        world
            .ingest(&event(&format!("evt_{n}"), "u_1"))
            .await
            .unwrap();
    }
    world.run_until_idle(Duration::from_secs(3600)).await;
    let sent = world.sender.sent_to(URL);
    let sizes: Vec<usize> = sent.iter().map(|s| ids(&s.body).len()).collect();
    assert_eq!(
        sizes,
        [3, 3],
        "the second POST waited for a token as one batch"
    );
    assert!(sent[1].at - sent[0].at >= chrono::Duration::seconds(1));
    assert_eq!(world.worker_totals().totals.deferred_rate, 3);
}

#[tokio::test]
async fn an_ordered_batch_keeps_each_subjects_events_in_order_through_a_retry() {
    let world = World::new();
    world
        .add_endpoint(
            json!({"url": URL, "event_types": ["*"], "ordering": "subject",
            "batch": {"max_events": 10, "max_wait_ms": 0}}),
        )
        .await;
    world
        .sender
        .script(URL, Box::new(|n| status(if n == 1 { 500 } else { 200 })));
    for (id, subject) in [
        ("evt_a1", "a"),
        ("evt_b1", "b"),
        ("evt_a2", "a"),
        ("evt_a3", "a"),
    ] {
        world.ingest(&event(id, subject)).await.unwrap();
    }
    world.run_until_idle(Duration::from_secs(3600)).await;
    let sent = world.sender.sent_to(URL);
    assert_eq!(sent.len(), 2, "{sent:?}");
    for s in &sent {
        // A subject's events together and in the order they were accepted.
        assert_eq!(ids(&s.body), ["evt_a1", "evt_a2", "evt_a3", "evt_b1"]);
    }
    assert_eq!(sent[0].header("webhook-id"), sent[1].header("webhook-id"));
    assert_eq!(world.worker_totals().totals.delivered, 4);
}

#[tokio::test]
async fn an_ordered_line_longer_than_a_post_goes_on_in_the_next() {
    let world = World::new();
    world
        .add_endpoint(
            json!({"url": URL, "event_types": ["*"], "ordering": "subject",
            "batch": {"max_events": 2, "max_wait_ms": 0}}),
        )
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    for n in 1..=5 {
        world
            .ingest(&event(&format!("evt_a{n}"), "a"))
            .await
            .unwrap();
    }
    world.run_until_idle(Duration::from_secs(3600)).await;
    let posts: Vec<Vec<String>> = world
        .sender
        .sent_to(URL)
        .iter()
        .map(|s| ids(&s.body))
        .collect();
    assert_eq!(
        posts,
        [
            vec!["evt_a1", "evt_a2"],
            vec!["evt_a3", "evt_a4"],
            vec!["evt_a5"]
        ]
    );
}

#[tokio::test]
async fn bad_batch_settings_are_refused_and_null_turns_batching_off() {
    let world = World::new();
    for (batch, field) in [
        (json!({"max_events": 1}), "batch.max_events"),
        (json!({"max_events": 101}), "batch.max_events"),
        (
            json!({"max_events": 5, "max_wait_ms": 300_001}),
            "batch.max_wait_ms",
        ),
        (json!({"max_events": 5, "size": 1}), "batch.size"),
        (json!({"max_wait_ms": 5}), "batch.max_events"),
        (json!("yes"), "batch"),
    ] {
        let err = world
            .system
            .admin
            .create_endpoint(&json!({"url": URL, "event_types": ["*"], "batch": batch}))
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains(field), "{batch}: {err:?}");
    }
    let none = authhooks::ports::PageRequest {
        limit: 10,
        cursor: None,
    };
    assert!(world
        .system
        .admin
        .list_endpoints(none)
        .await
        .unwrap()
        .items
        .is_empty());
    let (endpoint, _) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "batch": {"max_events": 7}}))
        .await;
    let view = endpoint.to_view();
    assert_eq!(
        serde_json::to_value(view.batch).unwrap(),
        json!({"max_events": 7, "max_wait_ms": 1000})
    );
    let patched = world
        .system
        .admin
        .update_endpoint(endpoint.id.as_str(), &json!({"batch": null}))
        .await
        .unwrap();
    assert_eq!(patched.batch, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_local_mode_batches_arrive_signed_and_every_event_once() {
    const EVENTS: usize = 25;
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let receiver = Receiver::start().await;
    let created = local
        .create_endpoint(
            &json!({"url": receiver.url(), "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 10, "max_wait_ms": 300}}),
        )
        .await;
    assert_eq!(
        created["batch"],
        json!({"max_events": 10, "max_wait_ms": 300})
    );
    let events: Vec<Value> = (0..EVENTS)
        .map(|n| event(&format!("evt_local_{n:02}"), &format!("u_{n}")))
        .collect();
    let (status, answer, _) = local
        .ingest(json!({"events": events}).to_string().as_bytes())
        .await;
    assert_eq!(status, 202, "{answer}");

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    while seen.values().sum::<usize>() < EVENTS {
        assert!(
            std::time::Instant::now() < deadline,
            "only {seen:?} arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.clear();
        for request in receiver.requests() {
            for id in ids(&request.body) {
                *seen.entry(id).or_default() += 1;
            }
        }
    }
    let requests = receiver.requests();
    assert_eq!(seen.len(), EVENTS, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    assert!(
        requests.len() < EVENTS,
        "{} POSTs for {EVENTS} events",
        requests.len()
    );
    for request in &requests {
        assert!(ids(&request.body).len() <= 10);
        assert!(request.header("webhook-id").unwrap().starts_with("bat_"));
    }
    verify_with_python(created["secret"].as_str().unwrap(), &requests).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_sqs_fresh_events_wait_in_one_message_and_go_in_one_post() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    let (_, secret) = pipeline
        .add_endpoint(
            json!({"url": receiver.url(), "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 5, "max_wait_ms": 1000}}),
        )
        .await;
    let events: Vec<Value> = (0..3)
        .map(|n| event(&format!("evt_aws_batch_{n}"), &format!("u_{n}")))
        .collect();
    let (status, body) = pipeline.post_event(&json!({"events": events})).await;
    assert_eq!(status.as_u16(), 202, "{body}");
    // Ingest put the three together in one message; the first look finds them fresh and
    // too few, and sends them back to wait.
    assert_eq!(pipeline.pump_worker(&pipeline.worker, 1).await, 1);
    assert!(receiver.requests().is_empty());
    pipeline
        .run_until("the batch", Duration::from_secs(20), || async {
            !receiver.requests().is_empty()
        })
        .await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        ids(&requests[0].body),
        ["evt_aws_batch_0", "evt_aws_batch_1", "evt_aws_batch_2"]
    );
    verify_with_python(&secret, &requests).unwrap();
}

#[tokio::test]
async fn a_batch_message_redriven_by_the_queue_is_a_failure_of_each_of_its_events() {
    use authhooks::domain::delivery::DeliveryJob;
    use authhooks::ports::{FailureFilter, FailureStore, PageRequest};

    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "ordering": "none",
            "batch": {"max_events": 5}}))
        .await;
    let jobs: Vec<DeliveryJob> = (0..3)
        .map(|n| {
            let event = serde_json::from_value(json!({"id": format!("evt_r{n}"),
                "type": "user.updated", "timestamp": "2026-11-22T10:00:00Z", "data": {}}))
            .unwrap();
            DeliveryJob::new(event, endpoint.id.clone())
        })
        .collect();
    // What SQS moves to the DLQ after too many receives: the message as it was sent.
    let carried = DeliveryJob::carried(jobs, |_| 1, 1_000);
    assert_eq!(carried.len(), 1);
    world
        .dlq
        .send(serde_json::to_string(&carried[0]).unwrap(), Duration::ZERO);
    world.run_until_idle(Duration::from_secs(60)).await;
    let page = world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    let mut failed: Vec<String> = page
        .items
        .iter()
        .map(|f| f.job.event.id.to_string())
        .collect();
    failed.sort();
    assert_eq!(failed, ["evt_r0", "evt_r1", "evt_r2"]);
    assert!(page.items.iter().all(|f| f.job.gathered.is_empty()));
}
