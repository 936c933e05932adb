//! The delivery log, the same checks against memory and DynamoDB: batches found newest
//! first across hours (one spanning an hour's end included), every filter, cursors that
//! visit each entry once at any page size, refused cursors, and the tallies.

use authhooks::adapters::memory::MemoryDeliveryLog;
use authhooks::domain::delivery::AttemptRecord;
use authhooks::domain::delivery_log::{LogBatch, LogEntry, LogQuery, LogStatus, Subject, Tally};
use authhooks::domain::event::EventType;
use authhooks::domain::ids::{DeliveryId, EventId};
use authhooks::ports::{DeliveryLog, PageRequest, PortError};
use authhooks_tests::moto::aws_world;
use chrono::{DateTime, Duration, Utc};

use super::{at, endpoint_id};

const ENDPOINTS: [&str; 3] = ["ep_a", "ep_b", "ep_c"];
const STATUSES: [LogStatus; 3] = [LogStatus::Delivered, LogStatus::Retrying, LogStatus::Failed];

/// The delivery of entry `i`: its event's and endpoint's.
fn delivery(i: i64) -> DeliveryId {
    let event_id = EventId::parse(&format!("evt_{}", i / 2)).unwrap();
    DeliveryId::derive(&event_id, &endpoint_id(ENDPOINTS[i as usize % 3]))
}

fn entry(i: i64, when: DateTime<Utc>) -> LogEntry {
    let record = AttemptRecord {
        attempt: 1 + (i % 4) as u32,
        status: (i % 5 != 0).then_some(200 + (i % 3) as u16 * 150),
        error: (i % 5 == 0).then(|| "timeout".to_owned()),
        latency_ms: (i * 37 % 900) as u64,
        at: when,
        snippet: Some(format!("answer {i}")),
    };
    let event_type = EventType::parse(["user.created", "user.updated"][i as usize % 2]).unwrap();
    // A delivery's id is always derived from its event and endpoint (DeliveryJob::new).
    let event_id = EventId::parse(&format!("evt_{}", i / 2)).unwrap();
    let endpoint = endpoint_id(ENDPOINTS[i as usize % 3]);
    LogEntry::of(
        Subject {
            delivery_id: &DeliveryId::derive(&event_id, &endpoint),
            event_id: &event_id,
            event_type: &event_type,
            endpoint_id: &endpoint,
            subject: (i % 4 != 3).then(|| format!("user_{}", i % 6)).as_deref(),
            tenant_id: Some(["acme", "globex"][i as usize % 2]),
        },
        &record,
        STATUSES[i as usize % 3],
    )
}

/// 90 entries over three hours in batches of 1 to 7, the entries of a batch a few seconds
/// apart; one batch starts just before an hour ends and finishes after it.
fn batches() -> Vec<LogBatch> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut size = 1;
    let mut start = at(-3 * 3600);
    while i < 90 {
        let entries: Vec<LogEntry> = (0..size)
            .map(|n| entry(i + n, start + Duration::seconds(n * 3)))
            .collect();
        i += size;
        out.push(LogBatch::new(entries, (i * 7919) as u64).unwrap());
        size = size % 7 + 1;
        start += Duration::seconds(397);
    }
    let straddling: Vec<LogEntry> = (0..4)
        .map(|n| entry(100 + n, at(-5) + Duration::seconds(n * 3)))
        .collect();
    out.push(LogBatch::new(straddling, 1).unwrap());
    out
}

/// The order a search answers in: newest batch first, a batch's entries as stored.
fn expected(batches: &[LogBatch], query: &LogQuery) -> Vec<LogEntry> {
    let mut sorted: Vec<&LogBatch> = batches.iter().collect();
    sorted.sort_by(|a, b| (b.hour, &b.key).cmp(&(a.hour, &a.key)));
    sorted
        .into_iter()
        .flat_map(|b| b.entries.iter())
        .filter(|e| query.matches(e))
        .cloned()
        .collect()
}

async fn search_all(
    log: &dyn DeliveryLog,
    query: &LogQuery,
    limit: usize,
    now: DateTime<Utc>,
) -> Vec<LogEntry> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(limit);
    for _ in 0..1_000 {
        let got = log.search(query, page.clone(), now).await.unwrap();
        assert!(got.items.len() <= limit);
        all.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return all,
        }
    }
    panic!("the cursors never ended");
}

async fn the_log_finds_every_entry_once_by_any_filter(log: &dyn DeliveryLog) {
    let batches = batches();
    for batch in &batches {
        log.append(batch).await.unwrap();
    }
    let now = at(3600);
    let recent = Some(at(-4 * 3600));
    let queries = [
        LogQuery::default(),
        LogQuery {
            endpoint_id: Some(endpoint_id("ep_b")),
            since: recent,
            ..LogQuery::default()
        },
        LogQuery {
            endpoint_ids: Some(vec![endpoint_id("ep_a"), endpoint_id("ep_c")]),
            status: Some(LogStatus::Failed),
            since: recent,
            ..LogQuery::default()
        },
        LogQuery {
            event_type: Some(EventType::parse("user.updated").unwrap()),
            subject: Some("user_3".into()),
            ..LogQuery::default()
        },
        LogQuery {
            since: Some(at(-2 * 3600 - 30)),
            until: Some(at(-3600 + 100)),
            ..LogQuery::default()
        },
        LogQuery {
            since: Some(at(0)),
            ..LogQuery::default()
        },
        LogQuery {
            until: Some(at(0)),
            since: recent,
            tenant_id: Some("acme".into()),
            ..LogQuery::default()
        },
        LogQuery {
            delivery_id: Some(delivery(41)),
            since: recent,
            ..LogQuery::default()
        },
        LogQuery {
            event_id: Some(EventId::parse("evt_20").unwrap()),
            since: recent,
            ..LogQuery::default()
        },
        LogQuery {
            since: Some(at(100)),
            until: Some(at(50)),
            ..LogQuery::default()
        },
    ];
    for query in &queries {
        let want = expected(&batches, query);
        for limit in [3, 100] {
            let got = search_all(log, query, limit, now).await;
            assert_eq!(got, want, "limit {limit}, {query:?}");
        }
    }
    assert_eq!(expected(&batches, &queries[0]).len(), 94);
    assert!(
        !expected(&batches, &queries[5]).is_empty(),
        "the straddling batch"
    );
    assert_eq!(expected(&batches, &queries[7]).len(), 1);

    for bad in ["not base64!", "e30", "eyJob3VyIjoxLCJhdCI6Inp6In0"] {
        let page = PageRequest {
            limit: 10,
            cursor: Some(bad.into()),
        };
        let refused = log.search(&LogQuery::default(), page, now).await;
        assert!(
            matches!(refused, Err(PortError::InvalidCursor(_))),
            "{bad}: {refused:?}"
        );
    }

    let mut buckets: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.entries.iter().map(|e| Tally::bucket(e.at)))
        .collect();
    buckets.sort();
    buckets.dedup();
    buckets.push(Tally::bucket(at(7200)));
    let tallies = log.tallies(&buckets).await.unwrap();
    assert_eq!(tallies.len(), buckets.len());
    assert_eq!(tallies.last(), Some(&Tally::default()), "an empty bucket");
    for (bucket, tally) in buckets.iter().zip(&tallies) {
        let mut want = Tally::default();
        for e in batches.iter().flat_map(|b| &b.entries) {
            if Tally::bucket(e.at) == *bucket {
                want.add(e);
            }
        }
        assert_eq!(tally, &want, "bucket {bucket}");
    }
}

#[tokio::test]
async fn delivery_log_memory() {
    the_log_finds_every_entry_once_by_any_filter(&MemoryDeliveryLog::new()).await;
}

#[tokio::test]
async fn delivery_log_dynamodb() {
    the_log_finds_every_entry_once_by_any_filter(aws_world().await.backend.log.as_ref()).await;
}

/// A search for something rare stops after a bounded read and hands out a cursor that
/// resumes where it stopped, so no entry is missed (memory only: the bound is the shared
/// search's, and 2 000 writes are slow on moto).
#[tokio::test]
async fn a_rare_search_answers_after_a_bounded_read_and_resumes() {
    use authhooks::adapters::log_search::BATCHES_PER_CALL;
    let log = MemoryDeliveryLog::new();
    let count = BATCHES_PER_CALL as i64 + 10;
    for i in 0..count {
        let batch = LogBatch::new(vec![entry(i, at(i))], i as u64).unwrap();
        log.append(&batch).await.unwrap();
    }
    let rare = LogQuery {
        delivery_id: Some(delivery(3)),
        ..LogQuery::default()
    };
    let now = at(count);
    let first = log
        .search(&rare, PageRequest::first(10), now)
        .await
        .unwrap();
    assert!(
        first.items.is_empty(),
        "the newest 2 000 batches hold none of delivery 3"
    );
    let cursor = first.next_cursor.expect("a cursor after a bounded read");
    let page = PageRequest {
        limit: 10,
        cursor: Some(cursor),
    };
    let second = log.search(&rare, page, now).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].delivery_id, delivery(3));
    assert_eq!(second.next_cursor, None);
    assert_eq!(search_all(&log, &rare, 10, now).await.len(), 1);
}
