//! Delivery jobs, their progress and scheduling, and failure records.

use super::*;
use chrono::TimeZone;

use crate::domain::outcome::FailureReason;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn job() -> DeliveryJob {
    let event: Event = serde_json::from_value(serde_json::json!({
        "id": "evt_1", "type": "user.created", "timestamp": "2026-11-22T10:00:00Z", "data": {}
    }))
    .unwrap();
    DeliveryJob::new(event, EndpointId::parse("ep_1").unwrap())
}

fn record(attempt: u32, at: i64) -> AttemptRecord {
    AttemptRecord::from_result(
        attempt,
        &AttemptResult::Response {
            status: 500,
            retry_after: None,
            snippet: Some("oops".into()),
        },
        Duration::from_millis(12),
        t(at),
    )
}

#[test]
fn short_delays_are_whole_seconds_rounded_up() {
    assert_eq!(schedule(t(0), t(0)), (Duration::ZERO, None));
    let due = t(4) + chrono::Duration::milliseconds(300);
    assert_eq!(schedule(due, t(0)), (Duration::from_secs(5), None));
    assert_eq!(schedule(t(-5), t(0)), (Duration::ZERO, None));
}

#[test]
fn long_delays_hop_with_not_before() {
    assert_eq!(schedule(t(900), t(0)), (MAX_QUEUE_DELAY, None));
    assert_eq!(schedule(t(3600), t(0)), (MAX_QUEUE_DELAY, Some(t(3600))));
}

#[test]
fn attempts_are_recorded_and_history_is_capped() {
    let mut j = job();
    for n in 1..=15 {
        j = j.after_attempt(record(n, i64::from(n)));
    }
    assert_eq!(j.attempts, 15);
    assert_eq!(j.first_attempt_at, Some(t(1)));
    assert_eq!(j.history.len(), MAX_HISTORY);
    assert_eq!(j.history.last().map(|r| r.attempt), Some(15));
    assert_eq!(j.history[0].status, Some(500));
}

#[test]
fn claim_tokens_order_attempts_and_replays() {
    let first = job();
    let second = first.after_attempt(record(1, 0));
    let replay = second.replayed();
    assert!(first.claim_token() < second.claim_token());
    assert!(second.claim_token() < replay.claim_token());
    assert_eq!(replay.attempts, 0);
    assert_ne!(
        FailureRecord::id_for(&second),
        FailureRecord::id_for(&replay)
    );
}

#[test]
fn failure_records_carry_the_last_attempt() {
    let j = job()
        .after_attempt(record(1, 0))
        .after_attempt(AttemptRecord::from_result(
            2,
            &AttemptResult::Transport(TransportFailure::Timeout),
            Duration::from_secs(15),
            t(5),
        ));
    let failure = FailureRecord::new(j, FailureReason::Exhausted, t(6));
    assert_eq!(failure.attempts, 2);
    assert_eq!(failure.last_status, None);
    assert_eq!(failure.last_error.as_deref(), Some("timeout"));
    assert_eq!(failure.first_attempt_at, Some(t(0)));
    assert_eq!(failure.event_type, "user.created");
}

#[test]
fn progress_resumes_only_its_own_generation() {
    let fresh = job();
    let mut tried = fresh
        .after_attempt(record(1, 0))
        .after_attempt(record(2, 5));
    tried.not_before = Some(t(60));
    let resumed = fresh.clone().resumed(tried.progress());
    assert_eq!(resumed, tried);
    assert_eq!(resumed.claim_token(), tried.claim_token());
    // A replay starts over whatever an earlier generation left.
    let replay = tried.replayed();
    assert_eq!(replay.clone().resumed(tried.progress()), replay);
    // Progress behind the job (a stale record) changes nothing.
    assert_eq!(tried.clone().resumed(fresh.progress()), tried);
}

#[test]
fn snippets_are_short_and_lossy() {
    assert_eq!(snippet(b""), None);
    assert_eq!(snippet(&[0xff, b'a']).as_deref(), Some("\u{fffd}a"));
    assert_eq!(
        snippet(&[b'x'; 1000]).map(|s| s.len()),
        Some(MAX_SNIPPET_CHARS)
    );
}

#[test]
fn later_saturates() {
    assert_eq!(later(t(0), Duration::MAX), DateTime::<Utc>::MAX_UTC);
}

#[test]
fn the_trace_travels_with_the_job_and_its_replays_and_old_messages_load() {
    use crate::domain::trace::TraceParent;
    let old = serde_json::to_value(job()).unwrap();
    assert!(old.get("trace").is_none(), "absent, not null: {old}");
    assert_eq!(
        serde_json::from_value::<DeliveryJob>(old).unwrap().trace,
        None
    );

    let mut traced = job();
    traced.trace = TraceParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Some("congo=t61rcWkgMzE"),
    );
    let message = serde_json::to_string(&traced).unwrap();
    let back: DeliveryJob = serde_json::from_str(&message).unwrap();
    assert_eq!(back.trace, traced.trace);
    assert!(back.trace.is_some());
    let retried = back.after_attempt(record(1, 0));
    assert_eq!(retried.replayed().trace, traced.trace);
}

#[test]
fn an_ordered_job_goes_in_its_line_on_fifo_only_and_never_delayed() {
    let unordered = job();
    let mut ordered = job();
    let key = crate::domain::order::OrderKey::new(&ordered.endpoint_id, None, "usr_1");
    ordered.order_key = Some(key.clone());
    let id = FailureRecord::id_for(&ordered);

    assert_eq!(
        placement(&ordered, Duration::ZERO, true),
        Ok(Some((key.to_string(), id)))
    );
    // A standard queue sends no group: it would make the queue a fair one.
    assert_eq!(placement(&ordered, Duration::ZERO, false), Ok(None));
    assert_eq!(
        placement(&unordered, Duration::from_secs(5), false),
        Ok(None)
    );
    let delayed = placement(&ordered, Duration::from_secs(1), true).unwrap_err();
    assert!(delayed.contains("never delayed"), "{delayed}");
    let ungrouped = placement(&unordered, Duration::ZERO, true).unwrap_err();
    assert!(ungrouped.contains("without an order key"), "{ungrouped}");
}
