//! The failure store, the same checks against memory and DynamoDB: one record per id,
//! whole records (the job included) back as stored, newest first with ties by id, the
//! endpoint and time filters, cursors that cover every record once, and `mark_replayed`.

use std::time::Duration;

use authhooks::adapters::memory::MemoryFailureStore;
use authhooks::domain::delivery::{AttemptRecord, FailureRecord};
use authhooks::domain::outcome::{AttemptResult, FailureReason};
use authhooks::ports::{FailureFilter, FailureStore, PageRequest};
use authhooks_tests::moto::aws_world;

use super::{at, endpoint_id, job};

const ENDPOINTS: [&str; 3] = ["ep_a", "ep_b", "ep_c"];

/// 40 failures over three endpoints, every fifth sharing its time with the one before.
fn failures() -> Vec<FailureRecord> {
    (0..40i64)
        .map(|i| {
            let secs = if i % 5 == 4 { (i - 1) * 10 } else { i * 10 };
            let attempt = AttemptRecord::from_result(
                1,
                &AttemptResult::Response {
                    status: 503,
                    retry_after: None,
                    snippet: Some("unavailable".into()),
                },
                Duration::from_millis(120),
                at(secs - 5),
            );
            let job = job(&format!("evt_{i}"), ENDPOINTS[i as usize % 3]).after_attempt(attempt);
            FailureRecord::new(job, FailureReason::Exhausted, at(secs))
        })
        .collect()
}

/// The order every adapter must list in: newest first, ties by id.
fn newest_first(mut records: Vec<FailureRecord>) -> Vec<FailureRecord> {
    records.sort_by(|a, b| b.failed_at.cmp(&a.failed_at).then_with(|| a.id.cmp(&b.id)));
    records
}

fn ids(records: &[FailureRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

/// Every page of a listing, checked to be no longer than `limit`.
async fn list_pages(
    store: &dyn FailureStore,
    filter: &FailureFilter,
    limit: usize,
) -> Vec<FailureRecord> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(limit);
    loop {
        let got = store.list(filter, page.clone()).await.unwrap();
        assert!(got.items.len() <= limit);
        all.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return all,
        }
    }
}

async fn failures_record_once_and_list_newest_first(store: &dyn FailureStore) {
    let records = failures();
    for record in &records {
        assert!(store.record(record).await.unwrap());
    }
    let mut again = records[3].clone();
    again.reason = FailureReason::Redriven;
    assert!(
        !store.record(&again).await.unwrap(),
        "the same id was recorded twice"
    );
    assert_eq!(
        store.get(&records[3].id).await.unwrap().as_ref(),
        Some(&records[3])
    );
    assert_eq!(store.get("no-such-failure").await.unwrap(), None);

    let everything = FailureFilter::default();
    let expected = newest_first(records.clone());
    let paged = list_pages(store, &everything, 7).await;
    assert_eq!(
        ids(&paged),
        ids(&expected),
        "not newest first, or not each once"
    );
    assert_eq!(paged, expected, "records changed on the way");
    assert_eq!(
        ids(&list_pages(store, &everything, 100).await),
        ids(&expected)
    );

    let filters = [
        FailureFilter {
            endpoint_id: Some(endpoint_id("ep_b")),
            ..Default::default()
        },
        FailureFilter {
            failed_after: Some(at(50)),
            failed_before: Some(at(230)),
            ..Default::default()
        },
        FailureFilter {
            failed_after: Some(at(330)),
            ..Default::default()
        },
        FailureFilter {
            failed_before: Some(at(30)),
            ..Default::default()
        },
        FailureFilter {
            endpoint_id: Some(endpoint_id("ep_c")),
            failed_after: Some(at(30)),
            failed_before: Some(at(300)),
        },
        FailureFilter {
            failed_after: Some(at(100)),
            failed_before: Some(at(100)),
            ..Default::default()
        },
        FailureFilter {
            endpoint_id: Some(endpoint_id("ep_none")),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: Vec<_> = records
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
        let expected = newest_first(expected);
        assert_eq!(
            ids(&list_pages(store, filter, 4).await),
            ids(&expected),
            "{filter:?}"
        );
    }

    let id = &records[10].id;
    store.mark_replayed(id, at(999)).await.unwrap();
    store
        .mark_replayed("no-such-failure", at(999))
        .await
        .unwrap();
    let replayed = store.get(id).await.unwrap().unwrap();
    assert_eq!(replayed.replayed_at, Some(at(999)));
    assert_eq!(
        FailureRecord {
            replayed_at: None,
            ..replayed.clone()
        },
        records[10]
    );
    assert!(list_pages(store, &everything, 50).await.contains(&replayed));
    assert_eq!(store.get("no-such-failure").await.unwrap(), None);
}

#[tokio::test]
async fn failures_memory() {
    failures_record_once_and_list_newest_first(&MemoryFailureStore::new()).await;
}

#[tokio::test]
async fn failures_dynamodb() {
    failures_record_once_and_list_newest_first(&aws_world().await.failures).await;
}
