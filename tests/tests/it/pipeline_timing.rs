//! When attempts happen and what time they carry: retries days apart each signed at their
//! own time (checked by the independent Python verifiers at that time), and a 429/503's
//! `Retry-After` delaying the next attempt end to end, clamped between the scheduled delay
//! and twice it.

use std::time::Duration;

use serde_json::json;

use authhooks_tests::oracle::verify_with_python_at;
use authhooks_tests::sender::{status, status_retry_after};
use authhooks_tests::World;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn event(id: &str) -> serde_json::Value {
    json!({"id": id, "type": "session.revoked", "data": {"session": {"id": "s_1"}}})
}

#[tokio::test]
async fn every_retry_is_signed_at_its_own_time_days_after_the_first() {
    let world = World::new();
    let (_, secret) = world
        .add_endpoint(json!({
            "url": "http://slow.test/hook", "event_types": ["*"],
            "retry": {"schedule_secs": [86400, 172800, 259200]}
        }))
        .await;
    // Down for three attempts, up for the fourth.
    world.sender.script(
        "http://slow.test/hook",
        Box::new(|n| status(if n <= 3 { 500 } else { 200 })),
    );
    world.ingest(&event("evt_slow")).await.unwrap();
    world.run_until_idle(10 * DAY).await;

    let sent = world.sender.sent();
    assert_eq!(sent.len(), 4);
    for pair in sent.windows(2) {
        let apart = pair[1].at - pair[0].at;
        assert!(
            apart >= chrono::Duration::hours(19),
            "attempts only {apart} apart"
        );
    }
    for (n, attempt) in sent.iter().enumerate() {
        let stamped: i64 = attempt
            .header("webhook-timestamp")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (stamped - attempt.at.timestamp()).abs() <= 1,
            "attempt {} sent at {} carries webhook-timestamp {stamped}, not its own time",
            n + 1,
            attempt.at.timestamp()
        );
        assert_eq!(
            attempt.header("webhook-attempt"),
            Some((n + 1).to_string().as_str())
        );
        // What a receiver does on arrival: both libraries, 5 minutes' tolerance, at the
        // moment this attempt arrived.
        verify_with_python_at(&secret.expose(), &[attempt.recorded()], attempt.at)
            .unwrap_or_else(|e| panic!("attempt {} refused at its own time: {e}", n + 1));
    }
    // The verifiers really judge the time: six minutes after it was sent, an attempt is stale.
    let last = &sent[3];
    let stale = last.at + chrono::Duration::minutes(6);
    let refused = verify_with_python_at(&secret.expose(), &[last.recorded()], stale).unwrap_err();
    assert!(refused.contains("too old"), "{refused}");
}

#[tokio::test]
async fn retry_after_on_429_and_503_delays_the_next_attempt_within_the_clamp() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": "http://busy.test/hook", "event_types": ["*"],
            "retry": {"schedule_secs": [100, 100, 100]}
        }))
        .await;
    // The scheduled delay d is 100 s ± 20 % jitter, so 80..=120 s; Retry-After is honoured
    // within [d, 2d].
    world.sender.script(
        "http://busy.test/hook",
        Box::new(|n| match n {
            1 => status_retry_after(429, "150"), // inside [d, 2d]: taken as is
            2 => status_retry_after(503, "5000"), // beyond 2d: cut to 2d
            3 => status_retry_after(429, "1"),   // below d: raised to d
            _ => status(200),
        }),
    );
    world.ingest(&event("evt_busy")).await.unwrap();
    world.run_until_idle(DAY).await;

    let sent = world.sender.sent();
    assert_eq!(sent.len(), 4);
    let gaps: Vec<i64> = sent
        .windows(2)
        .map(|p| (p[1].at - p[0].at).num_milliseconds())
        .collect();
    assert_eq!(
        gaps[0], 150_000,
        "a 429 asking for 150 s must be retried 150 s later (gaps {gaps:?})"
    );
    assert!(
        (160_000..=240_000).contains(&gaps[1]),
        "a 503 asking for 5000 s must wait twice the scheduled delay, 160..=240 s (gaps {gaps:?})"
    );
    assert!(
        (80_000..=121_000).contains(&gaps[2]),
        "a 429 asking for 1 s must still wait the scheduled delay, 80..=120 s (gaps {gaps:?})"
    );
    let totals = world.worker_totals();
    assert_eq!((totals.totals.retried, totals.totals.delivered), (3, 1));
}
