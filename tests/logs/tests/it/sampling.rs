//! What the worker logs of an attempt that delivered: every one in local mode, a sample of
//! deliveries where `success_log_sample` says so (the Lambda worker: 1 in 100), the rest at
//! debug; an attempt that did not deliver is logged at info whatever the sample.

use std::time::Duration;

use authhooks::system::Settings;
use authhooks_tests::sender::status;
use authhooks_tests::World;
use serde_json::{json, Value};

use super::capture::captured;

/// The level of each "attempt finished" line of `event_id`'s deliveries.
fn levels(lines: &[Value], event_id: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["message"] == "attempt finished" && l["event_id"] == event_id)
        .map(|l| l["level"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn deliver(sample: f64, tag: &str) -> World {
    let mut settings = Settings::permissive();
    settings.worker.success_log_sample = sample;
    let world = World::with_settings(settings);
    let url = format!("https://{tag}.example.com/hook");
    world.sender.script(&url, Box::new(|_| status(200)));
    let down = format!("https://{tag}-down.example.com/hook");
    world.sender.script(&down, Box::new(|_| status(503)));
    // Two events to the endpoint that is down, retried once each: four failed attempts,
    // fewer than open its circuit.
    for (url, types) in [(&url, "user.created"), (&down, "user.deleted")] {
        let spec = json!({"url": url, "event_types": [types], "ordering": "none",
                          "retry": {"schedule_secs": [1]}});
        world.add_endpoint(spec).await;
    }
    for n in 0..202 {
        let kind = if n < 200 {
            "user.created"
        } else {
            "user.deleted"
        };
        let event = json!({"id": format!("evt_{tag}_{n}"), "type": kind, "data": {}});
        world.ingest(&event).await.unwrap();
    }
    world.run_until_idle(Duration::from_secs(60)).await;
    world
}

#[tokio::test]
async fn successes_are_sampled_and_failures_always_logged() {
    let logs = captured();
    deliver(1.0, "all").await;
    deliver(0.0, "none").await;
    deliver(0.05, "some").await;
    let lines = logs.lines();

    let of = |tag: &str| -> Vec<String> {
        (0..202)
            .flat_map(|n| levels(&lines, &format!("evt_{tag}_{n}")))
            .collect()
    };
    let all = of("all");
    assert_eq!(all.len(), 204, "200 delivered attempts and 4 failed ones");
    assert!(all.iter().all(|l| l == "INFO"), "{all:?}");

    let none = of("none");
    let info = none.iter().filter(|l| *l == "INFO").count();
    assert_eq!(info, 4, "every failed attempt, no success");
    assert_eq!(none.len() - info, 200, "the successes, at debug");

    let some = of("some");
    let info = some.iter().filter(|l| *l == "INFO").count() - 4;
    // 5 % of 200 deliveries: 10 expected; the bounds hold for any fair hash.
    assert!(
        (2..=25).contains(&info),
        "{info} successes logged at info of 200"
    );
}
