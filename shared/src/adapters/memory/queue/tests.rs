//! The in-memory queue against SQS's semantics: delays, order, visibility, stale receipts,
//! redrive — and a long backlog, which each call must not walk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::adapters::memory::ManualClock;
use futures::executor::block_on;

fn queue(visibility_secs: u64, max_receive_count: Option<u32>) -> (Arc<ManualClock>, MemoryQueue) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    ));
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(visibility_secs),
        max_receive_count,
    };
    (clock.clone(), MemoryQueue::new(clock, settings))
}

fn bodies(messages: &[QueueMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}

#[test]
fn messages_come_out_when_visible_oldest_visible_first_then_in_order_sent() {
    let (clock, q) = queue(30, None);
    q.send("late".into(), Duration::from_secs(5));
    q.send("a".into(), Duration::ZERO);
    q.send("b".into(), Duration::ZERO);
    q.send("soon".into(), Duration::from_secs(2));
    assert_eq!(bodies(&q.receive(10)), ["a", "b"]);
    assert_eq!(
        q.next_visible_at(),
        Some(clock.now() + chrono::Duration::seconds(2))
    );
    clock.advance(Duration::from_secs(5));
    assert_eq!(bodies(&q.receive(1)), ["soon"]);
    assert_eq!(bodies(&q.receive(10)), ["late"]);
    assert_eq!(q.len(), 4, "received is not deleted");
}

#[test]
fn a_received_message_is_hidden_then_back_and_only_its_latest_receipt_deletes_it() {
    let (clock, q) = queue(30, None);
    q.send("m".into(), Duration::ZERO);
    let first = q.receive(10);
    assert!(
        q.receive(10).is_empty(),
        "hidden for the visibility timeout"
    );
    clock.advance(Duration::from_secs(30));
    let second = q.receive(10);
    assert_eq!(second[0].receive_count, 2);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert!(
        !q.delete(&first[0].receipt_handle),
        "a stale receipt deleted it"
    );
    assert!(!q.change_visibility(&first[0].receipt_handle, Duration::ZERO));
    assert!(q.change_visibility(&second[0].receipt_handle, Duration::ZERO));
    assert_eq!(q.receive(10).len(), 1, "visible again at once");
    let third = q.receive(10);
    assert!(third.is_empty());
    clock.advance(Duration::from_secs(30));
    let fourth = q.receive(10);
    assert!(q.delete(&fourth[0].receipt_handle));
    assert!(q.is_empty());
    assert_eq!(q.next_visible_at(), None);
}

#[test]
fn with_no_visibility_timeout_one_receive_returns_a_message_once() {
    let (_, q) = queue(0, None);
    q.send("m".into(), Duration::ZERO);
    assert_eq!(q.receive(10).len(), 1);
    assert_eq!(q.receive(10).len(), 1, "visible again on the next receive");
}

#[test]
fn a_message_over_its_receive_limit_is_redriven_not_returned() {
    let (clock, q) = queue(10, Some(2));
    let dlq = Arc::new(MemoryQueue::new(clock.clone(), QueueSettings::default()));
    let q = q.with_dead_letter(dlq.clone());
    q.send("poison".into(), Duration::ZERO);
    q.send("fine".into(), Duration::from_secs(15));
    for _ in 0..2 {
        assert!(bodies(&q.receive(1)).contains(&"poison"));
        clock.advance(Duration::from_secs(10));
    }
    assert_eq!(
        bodies(&q.receive(10)),
        ["fine"],
        "the limit is not the fine one's"
    );
    assert_eq!(bodies(&dlq.receive(10)), ["poison"]);
    assert_eq!(q.len(), 1);
}

#[test]
fn a_long_backlog_is_served_a_batch_at_a_time() {
    let (clock, q) = queue(30, None);
    for i in 0..50_000 {
        q.send(format!("{i}"), Duration::from_secs(i % 7));
    }
    clock.advance(Duration::from_secs(7));
    let mut seen = 0;
    loop {
        let batch = q.receive(10);
        if batch.is_empty() {
            break;
        }
        for m in &batch {
            assert!(q.delete(&m.receipt_handle));
        }
        seen += batch.len();
    }
    assert_eq!(seen, 50_000);
    assert!(q.is_empty());
}

#[test]
fn holds_change_the_visibility_of_current_receipts_only() {
    use crate::ports::{Hold, QueueHold, MAX_HOLD};
    let (clock, q) = queue(30, None);
    q.send("a".into(), Duration::ZERO);
    q.send("b".into(), Duration::ZERO);
    let first = q.receive(10);
    let hold = |m: &QueueMessage, secs| Hold {
        receipt_handle: m.receipt_handle.clone(),
        delay: Duration::from_secs(secs),
    };
    block_on(q.hold(vec![hold(&first[0], 100 * 3600), hold(&first[1], 0)])).unwrap();
    let again = q.receive(10);
    assert_eq!(bodies(&again), ["b"]);
    block_on(q.hold(vec![hold(&first[1], 0)])).unwrap();
    assert!(
        q.receive(10).is_empty(),
        "a stale receipt's hold was applied"
    );
    clock.advance(MAX_HOLD - Duration::from_secs(1));
    assert_eq!(bodies(&q.receive(10)), ["b"]);
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        bodies(&q.receive(10)),
        ["a"],
        "held longer than the maximum"
    );
}
