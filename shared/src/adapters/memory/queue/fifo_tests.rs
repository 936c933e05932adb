//! The in-memory FIFO queue against SQS FIFO's semantics: a group blocked while one of its
//! messages is in flight, order within a group, groups independent, deduplication, holds,
//! redrive keeping the group — and a long blocked backlog no receive may walk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::adapters::memory::ManualClock;
use crate::ports::{Hold, QueueHold, MAX_HOLD};
use futures::executor::block_on;

fn settings(visibility_secs: u64, max_receive_count: Option<u32>) -> QueueSettings {
    QueueSettings {
        visibility_timeout: Duration::from_secs(visibility_secs),
        max_receive_count,
    }
}

fn fifo(visibility_secs: u64) -> (Arc<ManualClock>, MemoryQueue) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    ));
    let q = MemoryQueue::fifo(clock.clone(), settings(visibility_secs, None));
    (clock, q)
}

/// Sends `bodies` to `group`, each its own deduplication id.
fn send(q: &MemoryQueue, group: &str, bodies: &[&str]) {
    for body in bodies {
        assert!(q.send_grouped(group, body, (*body).to_owned()).is_some());
    }
}

fn bodies(messages: &[QueueMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}

fn handle<'a>(messages: &'a [QueueMessage], body: &str) -> &'a str {
    let found = messages.iter().find(|m| m.body == body);
    &found.expect("message received").receipt_handle
}

#[test]
fn a_group_is_blocked_while_one_of_its_messages_is_in_flight() {
    let (clock, q) = fifo(30);
    send(&q, "a", &["a1", "a2"]);
    let first = q.receive(1);
    assert_eq!(bodies(&first), ["a1"]);
    assert!(
        q.receive(10).is_empty(),
        "a2 came out while a1 was in flight"
    );
    assert!(q.delete(handle(&first, "a1")));
    assert_eq!(bodies(&q.receive(10)), ["a2"]);

    // A message whose visibility ends comes back first, before the rest of its line.
    send(&q, "b", &["b1", "b2"]);
    assert_eq!(bodies(&q.receive(1)), ["b1"]);
    clock.advance(Duration::from_secs(30));
    let again = q.receive(10);
    assert_eq!(bodies(&again), ["a2", "b1", "b2"]);
    assert_eq!(again[1].receive_count, 2);
    assert_eq!(again[2].receive_count, 1);

    // A whole line left to time out comes back whole, in order.
    clock.advance(Duration::from_secs(30));
    assert_eq!(bodies(&q.receive(10)), ["a2", "b1", "b2"]);
}

#[test]
fn a_group_comes_out_in_the_order_sent_several_at_a_time() {
    let (_, q) = fifo(30);
    send(&q, "a", &["a1", "a2", "a3", "a4", "a5"]);
    let got = q.receive(3);
    assert_eq!(bodies(&got), ["a1", "a2", "a3"]);
    assert!(q.receive(10).is_empty());
    for m in &got {
        assert!(q.delete(&m.receipt_handle));
    }
    assert_eq!(bodies(&q.receive(10)), ["a4", "a5"]);
}

#[test]
fn groups_do_not_wait_for_each_other_and_older_lines_go_first() {
    let (_, q) = fifo(30);
    send(&q, "a", &["a1", "a2"]);
    send(&q, "b", &["b1"]);
    send(&q, "c", &["c1", "c2"]);
    assert_eq!(bodies(&q.receive(1)), ["a1"]);
    assert_eq!(bodies(&q.receive(10)), ["b1", "c1", "c2"]);
    assert!(q.receive(10).is_empty());
}

#[test]
fn a_deduplication_id_is_dropped_for_five_minutes_after_the_first_send() {
    let (clock, q) = fifo(30);
    assert!(q.send_grouped("a", "d1", "first".into()).is_some());
    clock.advance(Duration::from_secs(200));
    assert_eq!(q.send_grouped("a", "d1", "again".into()), None);
    assert!(
        q.send_grouped("b", "d1", "other group".into()).is_some(),
        "deduplication is per group"
    );
    let got = q.receive(10);
    assert_eq!(bodies(&got), ["first", "other group"]);
    for m in &got {
        assert!(q.delete(&m.receipt_handle));
    }
    assert_eq!(
        q.send_grouped("a", "d1", "after delete".into()),
        None,
        "the window runs from the first send, deleted or not"
    );
    clock.advance(Duration::from_secs(100));
    assert!(q.send_grouped("a", "d1", "window over".into()).is_some());
    assert_eq!(q.send_grouped("a", "d1", "and again".into()), None);
    assert_eq!(bodies(&q.receive(10)), ["window over"]);
}

#[test]
fn a_held_head_keeps_its_group_back_and_a_zero_hold_releases_the_rest_behind_it() {
    let (clock, q) = fifo(30);
    send(&q, "a", &["a1", "a2", "a3"]);
    send(&q, "b", &["b1"]);
    let got = q.receive(10);
    assert_eq!(bodies(&got), ["a1", "a2", "a3", "b1"]);
    let hold = |body: &str, secs| Hold {
        receipt_handle: handle(&got, body).to_owned(),
        delay: Duration::from_secs(secs),
    };
    block_on(q.hold(vec![
        hold("a1", 60),
        hold("a2", 0),
        hold("a3", 0),
        hold("b1", 0),
    ]))
    .unwrap();
    let b = q.receive(10);
    assert_eq!(bodies(&b), ["b1"], "a2 and a3 passed their head");
    assert!(q.delete(&b[0].receipt_handle));
    clock.advance(Duration::from_secs(59));
    assert!(q.receive(10).is_empty());
    clock.advance(Duration::from_secs(1));
    let back = q.receive(10);
    assert_eq!(bodies(&back), ["a1", "a2", "a3"]);
    assert!(back.iter().all(|m| m.receive_count == 2));
}

#[test]
fn stale_holds_are_skipped_and_no_hold_is_longer_than_the_maximum() {
    let (clock, q) = fifo(30);
    send(&q, "a", &["a1"]);
    let first = q.receive(10);
    clock.advance(Duration::from_secs(30));
    let second = q.receive(10);
    let stale = Hold {
        receipt_handle: first[0].receipt_handle.clone(),
        delay: Duration::from_secs(600),
    };
    block_on(q.hold(vec![stale])).unwrap();
    assert_eq!(
        q.next_visible_at(),
        Some(clock.now() + chrono::Duration::seconds(30))
    );
    let long = Hold {
        receipt_handle: second[0].receipt_handle.clone(),
        delay: Duration::from_secs(48 * 3600),
    };
    block_on(q.hold(vec![long])).unwrap();
    let max = chrono::Duration::from_std(MAX_HOLD).unwrap();
    assert_eq!(q.next_visible_at(), Some(clock.now() + max));

    // Once visible again it is no longer in flight: holding it would block its group anew.
    clock.advance(MAX_HOLD);
    assert!(!q.change_visibility(&second[0].receipt_handle, Duration::from_secs(60)));
    assert_eq!(q.receive(10).len(), 1);
}

#[test]
fn deleting_the_head_leaves_the_group_blocked_by_a_later_message_in_flight() {
    let (clock, q) = fifo(30);
    send(&q, "a", &["a1", "a2", "a3"]);
    let got = q.receive(2);
    assert!(q.change_visibility(handle(&got, "a2"), Duration::from_secs(90)));
    assert!(q.delete(handle(&got, "a1")));
    clock.advance(Duration::from_secs(60));
    assert!(q.receive(10).is_empty(), "a3 passed a2, still in flight");
    clock.advance(Duration::from_secs(30));
    assert_eq!(bodies(&q.receive(10)), ["a2", "a3"]);
}

#[test]
fn a_later_message_in_flight_blocks_its_group_when_the_head_is_visible_again() {
    let (clock, q) = fifo(30);
    send(&q, "a", &["a1", "a2"]);
    let got = q.receive(10);
    assert!(q.change_visibility(handle(&got, "a2"), Duration::from_secs(90)));
    assert!(q.change_visibility(handle(&got, "a1"), Duration::ZERO));
    assert!(
        q.receive(10).is_empty(),
        "a1 came out while a2 was in flight"
    );
    clock.advance(Duration::from_secs(89));
    assert!(q.receive(10).is_empty());
    clock.advance(Duration::from_secs(1));
    assert_eq!(bodies(&q.receive(10)), ["a1", "a2"]);
}

#[test]
fn redriven_messages_keep_their_group_on_a_fifo_dead_letter_queue() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    ));
    let dlq = Arc::new(MemoryQueue::fifo(clock.clone(), settings(30, None)));
    let q = MemoryQueue::fifo(clock.clone(), settings(10, Some(1))).with_dead_letter(dlq.clone());
    send(&q, "a", &["a1", "a2"]);
    send(&q, "b", &["b1"]);
    assert_eq!(q.receive(2).len(), 2);
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        bodies(&q.receive(10)),
        ["b1"],
        "a1 and a2 are over the limit"
    );
    assert_eq!(q.len(), 1);
    assert_eq!(bodies(&dlq.receive(1)), ["a1"]);
    assert!(dlq.receive(10).is_empty(), "a2 is no longer behind a1");
}

#[test]
fn a_long_blocked_backlog_is_not_walked_by_receives() {
    let (_, q) = fifo(30);
    for i in 0..100_000 {
        send(&q, "big", &[&format!("big-{i}")]);
    }
    assert_eq!(bodies(&q.receive(1)), ["big-0"]);
    for i in 0..20_000 {
        send(
            &q,
            &format!("g{i}"),
            &[&format!("g{i}-a"), &format!("g{i}-b")],
        );
    }
    let mut seen = 0;
    loop {
        let batch = q.receive(1);
        let Some(m) = batch.first() else { break };
        assert!(m.body.starts_with('g'), "{} passed big-0", m.body);
        assert!(q.delete(&m.receipt_handle));
        seen += 1;
    }
    assert_eq!(seen, 40_000);
    assert_eq!(q.len(), 100_000);
}
