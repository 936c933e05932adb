//! The use cases end to end over the in-memory adapters: ingest, fan-out, retries on
//! schedule, dead-lettering and recording, duplicates and replays.

use std::time::Duration;

use serde_json::json;

use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::event::Event;
use authhooks::domain::outcome::FailureReason;
use authhooks::domain::signature::{verify, Secret, SignedHeaders};
use authhooks::ports::{DeliveryQueue, Enqueue, FailureFilter, FailureStore, PageRequest};
use authhooks_tests::sender::status;
use authhooks_tests::{Sent, World};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn event(id: &str) -> serde_json::Value {
    json!({"id": id, "type": "user.created", "data": {"user": {"id": "u_1", "email": "a@example.com"}}})
}

/// Checks a delivery as any Standard Webhooks receiver would.
fn assert_verified(sent: &Sent, secret: &Secret) {
    let headers = SignedHeaders {
        id: sent.header("webhook-id").unwrap(),
        timestamp: sent.header("webhook-timestamp").unwrap(),
        signature: sent.header("webhook-signature").unwrap(),
    };
    verify([secret], &headers, &sent.body, sent.at.timestamp(), 300)
        .unwrap_or_else(|e| panic!("delivery to {} failed verification: {e}", sent.url));
    let event: Event = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(event.id.as_str(), headers.id);
}

#[tokio::test]
async fn one_event_to_three_endpoints_one_failing_until_its_schedule_runs_out() {
    let world = World::new();
    let (_, secret_a) = world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["user.*"]}))
        .await;
    let (failing, _) = world
        .add_endpoint(json!({"url": "http://b.test/hook", "event_types": ["*"]}))
        .await;
    let (_, secret_c) = world
        .add_endpoint(json!({"url": "http://c.test/hook", "event_types": ["user.created"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    world
        .sender
        .script("http://b.test/hook", Box::new(|_| status(503)));
    world
        .sender
        .script("http://c.test/hook", Box::new(|_| status(204)));

    let accepted = world.ingest(&event("evt_1")).await.unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].deliveries, 3);
    assert!(!accepted[0].duplicate);

    let start = world.now();
    world.run_until_idle(5 * DAY).await;

    let a = world.sender.sent_to("http://a.test/hook");
    let c = world.sender.sent_to("http://c.test/hook");
    assert_eq!((a.len(), c.len()), (1, 1));
    assert_verified(&a[0], &secret_a);
    assert_verified(&c[0], &secret_c);

    // The default schedule: 1 attempt + 9 retries, each wait within ±20 % of its step.
    let b = world.sender.sent_to("http://b.test/hook");
    assert_eq!(b.len(), 10);
    let steps = [5u64, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
    let mut previous = start;
    for (sent, step) in b.iter().skip(1).zip(steps) {
        let waited = (sent.at - previous).num_milliseconds() as f64 / 1000.0;
        let step = step as f64;
        assert!(
            waited >= step * 0.8 - 1.0 && waited <= step * 1.2 + 1.0,
            "waited {waited}s for a {step}s step"
        );
        previous = sent.at;
    }
    let attempts: Vec<&str> = b
        .iter()
        .map(|s| s.header("webhook-attempt").unwrap())
        .collect();
    assert_eq!(
        attempts,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
    );

    let failures = world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(failures.items.len(), 1);
    let failure = &failures.items[0];
    assert_eq!(failure.endpoint_id, failing.id);
    assert_eq!(failure.reason, FailureReason::Exhausted);
    assert_eq!(failure.attempts, 10);
    assert_eq!(failure.last_status, Some(503));
    assert!(world.queue.is_empty() && world.dlq.is_empty());
    let totals = world.worker_totals();
    assert_eq!(
        (
            totals.totals.delivered,
            totals.totals.retried,
            totals.totals.dead_lettered
        ),
        (2, 9, 1)
    );
    assert!(totals.failed.is_empty());
}

#[tokio::test]
async fn a_replayed_event_is_delivered_once_and_once_under_way_enqueues_nothing() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));

    let first = world.ingest(&event("evt_dup")).await.unwrap();
    assert!(!first[0].duplicate);
    // Before any worker took the job, the replay's copy is enqueued under the same
    // delivery id; the worker sends one and acknowledges the other unsent.
    let early = world.ingest(&event("evt_dup")).await.unwrap();
    assert!(!early[0].duplicate);
    assert_eq!(world.queue.len(), 2);
    world.run_until_idle(DAY).await;
    assert_eq!(world.sender.sent().len(), 1);
    assert_eq!(world.worker_totals().totals.duplicates, 1);

    // Delivered: a replay is a duplicate and enqueues nothing.
    let late = world.ingest(&event("evt_dup")).await.unwrap();
    assert!(late[0].duplicate);
    assert_eq!(late[0].deliveries, 1);
    assert!(world.queue.is_empty());
    world.run_until_idle(DAY).await;
    assert_eq!(world.sender.sent().len(), 1);
}

#[tokio::test]
async fn a_replay_goes_only_to_an_endpoint_subscribed_since() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    for url in ["http://a.test/hook", "http://b.test/hook"] {
        world.sender.script(url, Box::new(|_| status(200)));
    }
    world.ingest(&event("evt_grown")).await.unwrap();
    world.run_until_idle(DAY).await;

    world
        .add_endpoint(json!({"url": "http://b.test/hook", "event_types": ["user.*"]}))
        .await;
    let again = world.ingest(&event("evt_grown")).await.unwrap();
    // Owed to b now, and not yet under way there: not a duplicate, one job, for b alone.
    assert_eq!((again[0].deliveries, again[0].duplicate), (2, false));
    assert_eq!(world.queue.len(), 1);
    world.run_until_idle(DAY).await;
    let urls: Vec<String> = world.sender.sent().iter().map(|s| s.url.clone()).collect();
    assert_eq!(urls, ["http://a.test/hook", "http://b.test/hook"]);
}

#[tokio::test]
async fn a_replay_of_an_event_given_up_on_is_a_duplicate() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": "http://a.test/hook", "event_types": ["*"], "retry": {"schedule_secs": [1]}
        }))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(500)));
    world.ingest(&event("evt_failed")).await.unwrap();
    world.run_until_idle(DAY).await;
    assert_eq!(world.recorder_totals().recorded, 1);

    // The failure is replayed on purpose from the failures list, not by re-posting.
    let again = world.ingest(&event("evt_failed")).await.unwrap();
    assert!(again[0].duplicate);
    assert!(world.queue.is_empty());
}

#[tokio::test]
async fn a_job_enqueued_twice_is_delivered_once() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    let event: Event = serde_json::from_value(json!({
        "id": "evt_twice", "type": "user.updated", "timestamp": "2026-11-22T10:00:00Z", "data": {}
    }))
    .unwrap();
    let job = DeliveryJob::new(event, endpoint.id.clone());
    let twice = vec![
        Enqueue {
            job: job.clone(),
            delay: Duration::ZERO,
        },
        Enqueue {
            job,
            delay: Duration::from_secs(1),
        },
    ];
    world.queue.enqueue(twice).await.unwrap();
    world.run_until_idle(DAY).await;
    assert_eq!(world.sender.sent().len(), 1);
    assert_eq!(world.worker_totals().totals.duplicates, 1);
}

#[tokio::test]
async fn a_recorded_failure_replays_as_a_fresh_delivery() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": "http://a.test/hook", "event_types": ["*"],
            "retry": {"schedule_secs": [1, 1]}
        }))
        .await;
    // Down for its whole first schedule, up afterwards.
    world.sender.script(
        "http://a.test/hook",
        Box::new(|n| status(if n <= 3 { 500 } else { 200 })),
    );
    world.ingest(&event("evt_replay")).await.unwrap();
    world.run_until_idle(DAY).await;
    let page = world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    world
        .system
        .admin
        .replay_failure(&page.items[0].id)
        .await
        .unwrap();
    world.run_until_idle(DAY).await;
    let sent = world.sender.sent();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].header("webhook-attempt"), Some("1"));
    assert_eq!(sent[3].result, status(200));
    let record = world
        .failures
        .get(&page.items[0].id)
        .await
        .unwrap()
        .unwrap();
    assert!(record.replayed_at.is_some());
}

#[tokio::test]
async fn delays_beyond_the_queue_limit_hop_until_due() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": "http://a.test/hook", "event_types": ["*"],
            "retry": {"schedule_secs": [3600]}
        }))
        .await;
    world.sender.script(
        "http://a.test/hook",
        Box::new(|n| status(if n == 1 { 502 } else { 200 })),
    );
    world.ingest(&event("evt_hop")).await.unwrap();
    world.run_until_idle(DAY).await;
    let sent = world.sender.sent();
    assert_eq!(sent.len(), 2);
    let waited = (sent[1].at - sent[0].at).num_seconds();
    assert!(
        (2880..=4321).contains(&waited),
        "waited {waited}s for a 3600s step"
    );
    let totals = world.worker_totals();
    assert!(totals.hopped >= 3, "hopped {} times", totals.hopped);
    assert_eq!(totals.totals.delivered, 1);
}

#[tokio::test]
async fn a_gone_endpoint_is_disabled_and_its_delivery_recorded() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(410)));
    world.ingest(&event("evt_gone")).await.unwrap();
    world.run_until_idle(DAY).await;
    let stored = authhooks::ports::EndpointStore::get(world.endpoints.as_ref(), &endpoint.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.enabled);
    let failures = world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(failures.items[0].reason, FailureReason::Gone);
    assert_eq!(world.sender.sent().len(), 1);
}

#[tokio::test]
async fn a_test_event_goes_to_its_endpoint_alone_and_its_attempts_are_listed() {
    let world = World::new();
    let (target, _) = world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["user.deleted"]}))
        .await;
    world
        .add_endpoint(json!({"url": "http://b.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    let admin = &world.system.admin;
    let event_id = admin.send_test(target.id.as_str()).await.unwrap();
    world.run_until_idle(DAY).await;

    let sent = world.sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url, "http://a.test/hook");
    let listed = admin.attempts(event_id.as_str()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].endpoint_id, target.id);
    assert_eq!(listed[0].record.status, Some(200));
}
