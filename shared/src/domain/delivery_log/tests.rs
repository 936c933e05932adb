use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::domain::delivery::AttemptRecord;

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, h, m, s).unwrap()
}

fn entry(status: LogStatus, latency_ms: u64, when: DateTime<Utc>) -> LogEntry {
    let record = AttemptRecord {
        attempt: 2,
        status: Some(500),
        error: None,
        latency_ms,
        at: when,
        snippet: Some("boom".into()),
    };
    LogEntry::of(
        Subject {
            delivery_id: &DeliveryId::parse("dlv_1").unwrap(),
            event_id: &EventId::parse("evt_1").unwrap(),
            event_type: &EventType::parse("user.created").unwrap(),
            endpoint_id: &EndpointId::parse("ep_1").unwrap(),
            subject: Some("user_1"),
            tenant_id: Some("acme"),
        },
        &record,
        status,
    )
}

#[test]
fn an_entry_keeps_the_snippet_only_when_the_attempt_did_not_deliver() {
    assert_eq!(
        entry(LogStatus::Retrying, 1, at(3, 0, 0))
            .snippet
            .as_deref(),
        Some("boom")
    );
    assert_eq!(entry(LogStatus::Delivered, 1, at(3, 0, 0)).snippet, None);
}

#[test]
fn every_field_of_a_query_narrows_it() {
    let e = entry(LogStatus::Failed, 10, at(3, 10, 0));
    assert!(LogQuery::default().matches(&e));
    let ep = |s: &str| EndpointId::parse(s).unwrap();
    let misses = [
        LogQuery {
            endpoint_id: Some(ep("ep_2")),
            ..LogQuery::default()
        },
        LogQuery {
            endpoint_ids: Some(vec![ep("ep_2"), ep("ep_3")]),
            ..LogQuery::default()
        },
        LogQuery {
            endpoint_ids: Some(vec![]),
            ..LogQuery::default()
        },
        LogQuery {
            status: Some(LogStatus::Delivered),
            ..LogQuery::default()
        },
        LogQuery {
            event_type: Some(EventType::parse("user.deleted").unwrap()),
            ..LogQuery::default()
        },
        LogQuery {
            subject: Some("user_2".into()),
            ..LogQuery::default()
        },
        LogQuery {
            tenant_id: Some("other".into()),
            ..LogQuery::default()
        },
        LogQuery {
            since: Some(at(3, 10, 1)),
            ..LogQuery::default()
        },
        LogQuery {
            until: Some(at(3, 10, 0)),
            ..LogQuery::default()
        },
    ];
    for query in misses {
        assert!(!query.matches(&e), "{query:?} matched");
    }
    let hits = LogQuery {
        endpoint_ids: Some(vec![ep("ep_2"), ep("ep_1")]),
        status: Some(LogStatus::Failed),
        subject: Some("user_1".into()),
        since: Some(at(3, 10, 0)),
        until: Some(at(3, 10, 1)),
        ..LogQuery::default()
    };
    assert!(hits.matches(&e));
}

#[test]
fn a_query_reads_the_hours_from_until_back_to_since_within_the_retention() {
    let now = at(5, 30, 0);
    let query = LogQuery {
        since: Some(at(3, 59, 59)),
        until: Some(at(5, 0, 0)),
        ..LogQuery::default()
    };
    let (newest, oldest) = query.hours(now);
    assert_eq!(newest, Hour::of(at(4, 0, 0)), "until is exclusive");
    assert_eq!(oldest, Hour::of(at(3, 0, 0)));
    let early = LogQuery {
        since: Some(at(4, 1, 0)),
        ..LogQuery::default()
    };
    assert_eq!(
        early.hours(now).1,
        Hour::of(at(3, 0, 0)),
        "a batch may start 2 minutes before its entries"
    );
    let (newest, oldest) = LogQuery::default().hours(now);
    assert_eq!(newest, Hour::of(now));
    assert_eq!(oldest, Hour::of(now - RETENTION));
}

#[test]
fn keys_sort_like_the_times_they_name() {
    assert_eq!(Hour::of(at(3, 59, 59)).key(), "log#2026-12-02T03");
    assert_eq!(Hour::of(at(4, 0, 0)).previous(), Hour::of(at(3, 0, 0)));
    let early = batch_key(at(3, 0, 0), u64::MAX);
    let late = batch_key(at(3, 0, 0) + Duration::milliseconds(1), 0);
    assert!(early < late);
    assert!(key_at(at(3, 0, 0)) <= early && early < key_at(at(3, 0, 1)));
    assert_eq!(
        Tally::key(Tally::bucket(at(3, 9, 59))),
        "tally#2026-12-02T03:05"
    );
    let buckets = Tally::buckets_since(at(3, 9, 59), 60);
    assert_eq!(buckets.len(), 12);
    assert_eq!(buckets[0], Tally::bucket(at(3, 5, 0)));
    assert_eq!(buckets[11], Tally::bucket(at(2, 10, 0)));
}

#[test]
fn a_tally_counts_by_status_and_places_quantiles_in_their_buckets() {
    let mut tally = Tally::default();
    assert_eq!(tally.summary().success_rate, None);
    assert_eq!(tally.quantile_ms(0.5), None);
    for n in 0..98 {
        tally.add(&entry(LogStatus::Delivered, 20 + n % 5, at(3, 0, 0)));
    }
    tally.add(&entry(LogStatus::Retrying, 400, at(3, 0, 0)));
    tally.add(&entry(LogStatus::Failed, 60_000, at(3, 0, 0)));
    let mut sum = Tally::default();
    sum.merge(&tally);
    let summary = sum.summary();
    assert_eq!(summary.attempts, 100);
    assert_eq!(
        (summary.delivered, summary.retrying, summary.failed),
        (98, 1, 1)
    );
    assert_eq!(summary.success_rate, Some(0.98));
    assert_eq!(summary.p50_latency_ms, Some(25));
    assert_eq!(summary.p95_latency_ms, Some(25));
    assert_eq!(
        summary.p99_latency_ms,
        Some(500),
        "the 99th of 100 is the 400 ms one"
    );
    assert_eq!(sum.quantile_ms(1.0), None, "beyond the last bound");
}

#[test]
fn a_batch_is_keyed_by_its_earliest_entry_and_tallied_by_bucket() {
    assert_eq!(LogBatch::new(Vec::new(), 1), None);
    let entries = vec![
        entry(LogStatus::Delivered, 10, at(4, 0, 1)),
        entry(LogStatus::Delivered, 10, at(3, 59, 59)),
        entry(LogStatus::Failed, 10, at(4, 0, 2)),
    ];
    let batch = LogBatch::new(entries, 7).unwrap();
    assert_eq!(batch.hour, Hour::of(at(3, 0, 0)));
    assert_eq!(batch.key, batch_key(at(3, 59, 59), 7));
    let tallies = batch.tallies();
    assert_eq!(tallies.len(), 2);
    assert_eq!(tallies[0].0, Tally::bucket(at(4, 0, 0)));
    assert_eq!((tallies[0].1.delivered, tallies[0].1.failed), (1, 1));
    assert_eq!(tallies[1].1.delivered, 1);
}
