//! Batched reads of idempotency records, the same checks against memory and DynamoDB: the
//! answers come back in the order asked, across the 100-key batches of BatchGetItem, with
//! repeated keys, absent and expired records, in progress and completed alike.

use authhooks::adapters::memory::MemoryStateStore;
use authhooks::domain::ids::DeliveryId;
use authhooks::ports::{Claim, ClaimOutcome, IdempotencyKey, IdempotencyStore};
use authhooks_tests::moto::aws_world;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{at, history, CLAIMED};

fn key(n: usize) -> IdempotencyKey {
    IdempotencyKey::delivery(&DeliveryId::parse(&format!("dlv_batch_{n:04}")).unwrap())
}

fn claim(expires_at: i64) -> Claim {
    Claim {
        token: 0,
        now: at(0),
        lease_until: at(30),
        expires_at: at(expires_at),
    }
}

/// 250 keys: every third never written, every fifth of the rest completed, key 7 expired
/// at the time of reading; then asked for in reverse with keys 1 and 7 asked twice.
async fn reads_answer_in_order(store: &dyn IdempotencyStore) {
    let now = at(100);
    for n in (0..250).filter(|n| n % 3 != 0) {
        let expires = if n == 7 { 100 } else { 3600 };
        assert_eq!(
            store.claim(&key(n), &claim(expires)).await.unwrap(),
            CLAIMED
        );
        if n % 5 == 0 {
            store
                .complete(&key(n), 0, &history(&format!("done {n}")), at(7200))
                .await
                .unwrap();
        }
    }
    let mut asked: Vec<usize> = (0..250).rev().collect();
    asked.extend([1, 7]);
    let keys: Vec<IdempotencyKey> = asked.iter().map(|&n| key(n)).collect();

    let got = store.peek_many(&keys, now).await.unwrap();

    assert_eq!(got.len(), keys.len());
    for (&n, answer) in asked.iter().zip(&got) {
        let expected = if n % 3 == 0 || n == 7 {
            None
        } else if n % 5 == 0 {
            Some(ClaimOutcome::Completed {
                history: history(&format!("done {n}")),
            })
        } else {
            Some(ClaimOutcome::InProgress {
                lease_until: at(30),
            })
        };
        assert_eq!(answer, &expected, "key {n}");
    }
    assert!(store.peek_many(&[], now).await.unwrap().is_empty());
}

#[tokio::test]
async fn batched_reads_memory() {
    reads_answer_in_order(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn batched_reads_dynamodb() {
    reads_answer_in_order(&aws_world().await.state).await;
}

/// A completed record as the releases before the typed history wrote it (the history as a
/// JSON string in `detail`) loads through both reads.
#[tokio::test]
async fn completed_records_of_earlier_releases_load_dynamodb() {
    let world = aws_world().await;
    let store = &world.state;
    let key = key(9_999);
    let detail = serde_json::to_string(&history("legacy")).unwrap();
    let item = [
        ("pk", AttributeValue::S(key.as_str().to_owned())),
        ("token", AttributeValue::N("3".into())),
        ("status", AttributeValue::S("completed".into())),
        (
            "expires_at",
            AttributeValue::N(at(7200).timestamp().to_string()),
        ),
        ("detail", AttributeValue::S(detail)),
    ];
    store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(
            item.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ))
        .send()
        .await
        .unwrap();

    let completed = ClaimOutcome::Completed {
        history: history("legacy"),
    };
    assert_eq!(
        store
            .peek_many(std::slice::from_ref(&key), at(100))
            .await
            .unwrap(),
        [Some(completed.clone())]
    );
    let claim = Claim {
        token: 4,
        ..claim(3600)
    };
    assert_eq!(store.claim(&key, &claim).await.unwrap(), completed);
}
