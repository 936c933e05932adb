//! The in-memory queue as the `DeliveryQueue` port in FIFO mode: a job's order key is its
//! group, its failure-record id its deduplication id, and a job that cannot travel there
//! is refused with nothing of the call sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures::executor::block_on;

use super::*;
use crate::adapters::memory::ManualClock;
use crate::domain::delivery::{DeliveryJob, FailureRecord};
use crate::domain::event::Event;
use crate::domain::ids::EndpointId;
use crate::domain::order::OrderKey;
use crate::ports::{DeliveryQueue, Enqueue, PortError};

fn fifo() -> MemoryQueue {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    ));
    MemoryQueue::fifo(clock, QueueSettings::default())
}

fn ordered_job(event_id: &str, subject: &str) -> DeliveryJob {
    let event: Event = serde_json::from_value(serde_json::json!({
        "id": event_id, "type": "user.updated", "timestamp": "2026-11-23T10:00:00Z", "data": {}
    }))
    .unwrap();
    let endpoint = EndpointId::parse("ep_1").unwrap();
    let mut job = DeliveryJob::new(event, endpoint.clone());
    job.order_key = Some(OrderKey::new(&endpoint, None, subject));
    job
}

fn now(job: &DeliveryJob) -> Enqueue {
    Enqueue {
        job: job.clone(),
        delay: Duration::ZERO,
    }
}

#[test]
fn jobs_travel_in_their_order_key_deduplicated_by_their_failure_record_id() {
    let q = fifo();
    let (u1, u2, v1) = (
        ordered_job("evt_1", "u"),
        ordered_job("evt_2", "u"),
        ordered_job("evt_3", "v"),
    );
    block_on(q.enqueue(vec![now(&u1), now(&u2), now(&v1), now(&u1)])).unwrap();
    assert_eq!(q.len(), 3, "the second send of evt_1 was not dropped");
    let mut replay = u1.clone();
    replay.generation = 1;
    assert_ne!(FailureRecord::id_for(&replay), FailureRecord::id_for(&u1));
    block_on(q.enqueue(vec![now(&replay)])).unwrap();
    assert_eq!(q.len(), 4, "a replay is a new message");

    let first = q.receive(1);
    let job: DeliveryJob = serde_json::from_str(&first[0].body).unwrap();
    assert_eq!(job, u1);
    let rest: Vec<DeliveryJob> = q
        .receive(10)
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    assert_eq!(rest, [v1], "u's line is blocked behind evt_1");
}

#[test]
fn a_delayed_ordered_job_or_an_unordered_one_is_refused_and_nothing_is_sent() {
    let q = fifo();
    let delayed = Enqueue {
        job: ordered_job("evt_2", "u"),
        delay: Duration::from_secs(5),
    };
    let result = block_on(q.enqueue(vec![now(&ordered_job("evt_1", "u")), delayed]));
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");
    let mut unordered = ordered_job("evt_3", "u");
    unordered.order_key = None;
    let result = block_on(q.enqueue(vec![now(&unordered)]));
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");
    assert!(q.is_empty());
}
