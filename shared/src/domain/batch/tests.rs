//! Batching's setting, ids, body, packing and waiting.

use super::*;
use chrono::TimeZone;

use crate::domain::event::Event;
use crate::domain::ids::EndpointId;

fn t(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_800_000_000_000 + ms).unwrap()
}

fn job(n: u32, accepted_ms: i64) -> DeliveryJob {
    let mut event: Event = serde_json::from_value(serde_json::json!({
        "id": format!("evt_{n}"), "type": "user.created",
        "timestamp": "2026-11-22T10:00:00Z", "data": {}
    }))
    .unwrap();
    event.sequence = Some(u64::try_from(t(accepted_ms).timestamp_micros()).unwrap());
    DeliveryJob::new(event, EndpointId::parse("ep_1").unwrap())
}

const B: Batching = Batching {
    max_events: 3,
    max_wait_ms: 500,
};

#[test]
fn the_setting_is_checked_with_paths() {
    assert!(B.validate("batch").is_empty());
    let bad = Batching {
        max_events: 1,
        max_wait_ms: MAX_WAIT_MS + 1,
    };
    let fields: Vec<String> = bad.validate("batch").into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["batch.max_events", "batch.max_wait_ms"]);
    let too_many = Batching {
        max_events: MAX_EVENTS + 1,
        max_wait_ms: 0,
    };
    assert_eq!(too_many.validate("batch").len(), 1);
    let read: Batching = serde_json::from_str(r#"{"max_events": 10}"#).unwrap();
    assert_eq!(read.max_wait_ms, DEFAULT_WAIT_MS);
}

#[test]
fn fresh_jobs_wait_from_the_oldest_acceptance() {
    let (a, b) = (job(1, 0), job(2, 200));
    // Due at 500: looked at again halfway there, then closer, never past it.
    assert_eq!(B.wait_for_more(&[&a, &b], t(100)), Some(t(300)));
    assert_eq!(B.wait_for_more(&[&a, &b], t(480)), Some(t(490)));
    assert_eq!(B.wait_for_more(&[&a, &b], t(495)), Some(t(500)));
    // The wait is over: they go with whatever there is.
    assert_eq!(B.wait_for_more(&[&a, &b], t(500)), None);
    // A full POST goes at once.
    let c = job(3, 300);
    assert_eq!(B.wait_for_more(&[&a, &b, &c], t(100)), None);
}

#[test]
fn jobs_that_waited_already_take_the_rest_along() {
    let a = job(1, 0);
    let mut retried = job(2, 0);
    retried.attempts = 1;
    assert_eq!(B.wait_for_more(&[&a, &retried], t(100)), None);
    let mut replayed = job(2, 0);
    replayed.generation = 1;
    assert_eq!(B.wait_for_more(&[&a, &replayed], t(100)), None);
    let mut old = job(2, 0);
    old.event.sequence = None;
    assert_eq!(B.wait_for_more(&[&a, &old], t(100)), None);
    assert_eq!(B.wait_for_more(&[], t(100)), None);
}

#[test]
fn packing_fills_posts_in_order_and_never_splits_a_line() {
    // Lines of sizes 1, 2, 1, 3, 1 with room for three events a POST.
    let lines = vec![vec![1], vec![2, 3], vec![4], vec![5, 6, 7], vec![8]];
    let (posts, left) = B.pack(lines, |_| 10);
    assert_eq!(posts, vec![vec![1, 2, 3], vec![4], vec![5, 6, 7], vec![8]]);
    assert!(left.is_empty());
}

#[test]
fn a_line_longer_than_a_post_leaves_its_tail_over() {
    let (posts, left) = B.pack(vec![vec![1, 2, 3, 4, 5], vec![6]], |_| 10);
    assert_eq!(posts, vec![vec![1, 2, 3], vec![6]]);
    assert_eq!(left, vec![4, 5]);
}

#[test]
fn packing_keeps_a_post_under_the_byte_limit() {
    let big = MAX_BODY_BYTES / 2;
    let (posts, left) = B.pack(vec![vec![1], vec![2], vec![3]], |_| big);
    assert_eq!(posts, vec![vec![1, 2], vec![3]]);
    assert!(left.is_empty());
    // A line whose second job would overflow keeps only its first.
    let (posts, left) = B.pack(vec![vec![1, 2, 3]], |_| MAX_BODY_BYTES - 1);
    assert_eq!(posts, vec![vec![1]]);
    assert_eq!(left, vec![2, 3]);
}

#[test]
fn a_batch_id_is_derived_from_its_deliveries() {
    let (a, b) = (job(1, 0), job(2, 0));
    let id = batch_id([&a.delivery_id, &b.delivery_id]);
    assert!(
        id.starts_with(ID_PREFIX) && id.len() == ID_PREFIX.len() + 32,
        "{id}"
    );
    assert_eq!(id, batch_id([&a.delivery_id, &b.delivery_id]));
    assert_ne!(id, batch_id([&b.delivery_id, &a.delivery_id]));
    assert_ne!(id, batch_id([&a.delivery_id]));
}

#[test]
fn the_body_lists_the_events_as_they_are() {
    let body = body([&b"{\"id\":1}"[..], &b"{\"id\":2}"[..]]);
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!({"events": [{"id": 1}, {"id": 2}]})
    );
}

#[test]
fn jobs_travel_carried_under_a_size_limit_and_unpack_flat() {
    let jobs: Vec<DeliveryJob> = (1..=5).map(|n| job(n, 0)).collect();
    let carried = DeliveryJob::carried(jobs.clone(), |_| 100, 250);
    assert_eq!(carried.len(), 3);
    assert_eq!(carried[0].gathered.len(), 1);
    let unpacked: Vec<DeliveryJob> = carried.into_iter().flat_map(DeliveryJob::unpack).collect();
    assert_eq!(unpacked, jobs);
    // A carrier carried again is flattened, never nested.
    let twice = DeliveryJob::carried(
        DeliveryJob::carried(jobs.clone(), |_| 1, 1_000),
        |_| 1,
        1_000,
    );
    assert_eq!(twice.len(), 1);
    assert!(twice[0].gathered.iter().all(|j| j.gathered.is_empty()));
    // What travels is what arrives.
    let text = serde_json::to_string(&twice[0]).unwrap();
    let back: DeliveryJob = serde_json::from_str(&text).unwrap();
    assert_eq!(back.unpack(), jobs);
}
