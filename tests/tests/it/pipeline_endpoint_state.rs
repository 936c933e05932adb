//! Deliveries that never reach the network because of their endpoint's state — deleted or
//! disabled while the job waited, or disabled after its circuit stayed open for 5 days —
//! end as failure records with their reason, never silently dropped.

use std::time::Duration;

use serde_json::json;

use authhooks::domain::delivery::FailureRecord;
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::outcome::FailureReason;
use authhooks::ports::{EndpointStore, FailureFilter, FailureStore, PageRequest};
use authhooks_tests::sender::status;
use authhooks_tests::World;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn event(id: &str) -> serde_json::Value {
    json!({"id": id, "type": "user.updated", "data": {"user": {"id": "u_1"}}})
}

async fn failures(world: &World) -> Vec<FailureRecord> {
    world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(100))
        .await
        .unwrap()
        .items
}

/// Ingests one event for a fresh endpoint, lets `change` act on the endpoint before any
/// worker runs, drains, and returns the endpoint and what was recorded.
async fn ingest_then(change: &str) -> (World, Endpoint, Vec<FailureRecord>) {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    let accepted = world.ingest(&event("evt_waiting")).await.unwrap();
    assert_eq!(accepted[0].deliveries, 1);
    assert_eq!(world.queue.len(), 1, "the job waits for a worker");

    let id = endpoint.id.as_str();
    match change {
        "disable" => {
            let body = json!({"enabled": false});
            let updated = world.system.admin.update_endpoint(id, &body).await.unwrap();
            assert!(!updated.enabled);
        }
        "delete" => world.system.admin.delete_endpoint(id).await.unwrap(),
        other => unreachable!("{other}"),
    }
    world.run_until_idle(DAY).await;
    let recorded = failures(&world).await;
    (world, endpoint, recorded)
}

fn assert_unavailable(world: &World, endpoint: &Endpoint, recorded: &[FailureRecord]) {
    assert!(world.sender.sent().is_empty(), "nothing may be sent");
    assert_eq!(
        recorded.len(),
        1,
        "the waiting delivery must end as a failure record, not vanish"
    );
    let record = &recorded[0];
    assert_eq!(record.endpoint_id, endpoint.id);
    assert_eq!(record.event_id.as_str(), "evt_waiting");
    assert_eq!(record.event_type, "user.updated");
    assert_eq!(record.reason, FailureReason::EndpointUnavailable);
    assert_eq!(record.attempts, 0);
    assert_eq!((record.last_status, record.first_attempt_at), (None, None));
    assert_eq!(world.worker_totals().totals.dead_lettered, 1);
    assert_eq!(world.recorder_totals().recorded, 1);
}

#[tokio::test]
async fn a_job_for_an_endpoint_disabled_while_it_waited_is_recorded_as_unavailable() {
    let (world, endpoint, recorded) = ingest_then("disable").await;
    assert_unavailable(&world, &endpoint, &recorded);
}

#[tokio::test]
async fn a_job_for_an_endpoint_deleted_while_it_waited_is_recorded_as_unavailable() {
    let (world, endpoint, recorded) = ingest_then("delete").await;
    assert!(world.endpoints.get(&endpoint.id).await.unwrap().is_none());
    assert_unavailable(&world, &endpoint, &recorded);
}

#[tokio::test]
async fn a_circuit_open_for_five_days_disables_the_endpoint_and_records_what_waited() {
    let world = World::new();
    // One failure opens the circuit; a round of probes a day (the longest open timeout); a
    // retry schedule just long enough that no job runs out of attempts before the 5 days
    // are up, and short enough that, were the endpoint never disabled, all would be given
    // up on well within the horizon (so the assertions below, not the drain, would fail).
    let (endpoint, _) = world
        .add_endpoint(json!({
            "url": "http://down.test/hook", "event_types": ["*"],
            "circuit": {"failure_threshold": 1, "success_threshold": 1,
                        "open_timeout_secs": 86400, "half_open_max_requests": 3},
            "retry": {"schedule_secs": [60, 60, 60, 60, 60]}
        }))
        .await;
    world
        .sender
        .script("http://down.test/hook", Box::new(|_| status(503)));
    let start = world.now();
    world.ingest(&event("evt_0")).await.unwrap();
    world.step().await;
    // Two more arrive while the circuit is open; they only ever wait.
    world.clock.advance(Duration::from_secs(3600));
    world.ingest(&event("evt_1")).await.unwrap();
    world.ingest(&event("evt_2")).await.unwrap();

    world.run_until_idle(12 * DAY).await;

    let stored = world.endpoints.get(&endpoint.id).await.unwrap().unwrap();
    assert!(
        !stored.enabled,
        "an endpoint whose circuit stayed open 5 days must be disabled"
    );
    assert_eq!(
        stored.disabled_reason.as_deref(),
        Some("circuit open for 5 days")
    );
    let five_days = start + chrono::Duration::days(5);
    let sent = world.sender.sent();
    // The first attempt, then all three probed together on days 1 to 4, none from day 5 on.
    assert_eq!(
        sent.len(),
        1 + 3 * 4,
        "{:?}",
        sent.iter().map(|s| s.at).collect::<Vec<_>>()
    );
    assert!(sent.iter().all(|s| s.at < five_days));

    let mut recorded = failures(&world).await;
    recorded.sort_by(|a, b| a.event_id.as_str().cmp(b.event_id.as_str()));
    let seen: Vec<(&str, FailureReason)> = recorded
        .iter()
        .map(|r| (r.event_id.as_str(), r.reason))
        .collect();
    assert_eq!(
        seen,
        [
            ("evt_0", FailureReason::CircuitDisabled),
            ("evt_1", FailureReason::CircuitDisabled),
            ("evt_2", FailureReason::CircuitDisabled),
        ],
        "every pending delivery is recorded as circuit-disabled"
    );
    assert!(recorded.iter().all(|r| r.endpoint_id == endpoint.id));
    assert!(recorded.iter().all(|r| r.failed_at >= five_days));
    // The attempts made are the ones recorded: no attempt was lost or invented.
    let attempts: u32 = recorded.iter().map(|r| r.attempts).sum();
    assert_eq!(attempts, 13);
}
