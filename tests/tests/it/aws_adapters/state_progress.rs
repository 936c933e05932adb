//! Paused claims, the same checks against memory and DynamoDB: the progress a holder pauses
//! with passes to every later claim on the unfinished record, whatever its token, until the
//! record completes or expires; only the holder pauses; a paused record still reads as seen.

use authhooks::adapters::memory::MemoryStateStore;
use authhooks::domain::delivery::Progress;
use authhooks::domain::ids::DeliveryId;
use authhooks::ports::{Claim, ClaimOutcome, IdempotencyKey, IdempotencyStore};
use authhooks_tests::moto::aws_world;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{at, history, CLAIMED};

fn claim(token: u64, now: i64, lease_until: i64, expires_at: i64) -> Claim {
    Claim {
        token,
        now: at(now),
        lease_until: at(lease_until),
        expires_at: at(expires_at),
    }
}

fn key(id: &str) -> IdempotencyKey {
    IdempotencyKey::delivery(&DeliveryId::parse(id).unwrap())
}

/// Progress told apart by `attempts`.
fn progress(attempts: u32) -> Progress {
    Progress {
        generation: 0,
        attempts,
        first_attempt_at: Some(at(0)),
        history: history(&format!("{attempts} attempts")),
        not_before: Some(at(600)),
    }
}

fn resumed(attempts: u32) -> ClaimOutcome {
    ClaimOutcome::Claimed {
        progress: Some(progress(attempts)),
    }
}

fn in_progress(lease_until: i64) -> ClaimOutcome {
    ClaimOutcome::InProgress {
        lease_until: at(lease_until),
    }
}

/// What a read says of a paused record: seen, its lease long lapsed.
const PAUSED: ClaimOutcome = ClaimOutcome::InProgress {
    lease_until: DateTime::<Utc>::UNIX_EPOCH,
};

async fn progress_passes_from_claim_to_claim(store: &dyn IdempotencyStore) {
    let key = key("dlv_paused");
    let try_claim = |c: Claim| {
        let key = key.clone();
        async move { store.claim(&key, &c).await.unwrap() }
    };
    let peek = |now: i64| {
        let key = key.clone();
        async move {
            store
                .peek_many(std::slice::from_ref(&key), at(now))
                .await
                .unwrap()
        }
    };
    assert_eq!(try_claim(claim(1, 0, 30, 3600)).await, CLAIMED);
    store.pause(&key, 1, &progress(1)).await.unwrap();
    assert_eq!(peek(1).await, [Some(PAUSED)], "a paused record is unseen");
    // The next receive of the unchanged message claims at once, with the attempts.
    assert_eq!(try_claim(claim(1, 1, 31, 3601)).await, resumed(1));
    assert_eq!(try_claim(claim(1, 2, 32, 3602)).await, in_progress(31));
    // A holder that stops without pausing leaves the progress to the next claim...
    assert_eq!(try_claim(claim(1, 31, 61, 3631)).await, resumed(1));
    // ...and so does one superseded by a higher token.
    assert_eq!(try_claim(claim(2, 32, 90, 3632)).await, resumed(1));

    // Only the holder pauses: not a superseded token, nor one not yet seen.
    store.pause(&key, 1, &progress(7)).await.unwrap();
    store.pause(&key, 3, &progress(7)).await.unwrap();
    assert_eq!(try_claim(claim(2, 33, 93, 3633)).await, in_progress(90));
    assert_eq!(try_claim(claim(2, 90, 120, 3690)).await, resumed(1));

    store.pause(&key, 2, &progress(2)).await.unwrap();
    // A higher token over a paused record gets its progress too (the caller weighs its
    // generation).
    assert_eq!(try_claim(claim(5, 91, 121, 3691)).await, resumed(2));
    store
        .complete(&key, 5, &history("delivered"), at(7200))
        .await
        .unwrap();
    let done = ClaimOutcome::Completed {
        history: history("delivered"),
    };
    // Completed is final: a pause after it changes nothing.
    store.pause(&key, 5, &progress(9)).await.unwrap();
    assert_eq!(try_claim(claim(6, 100, 130, 3700)).await, done);
    assert_eq!(peek(100).await, [Some(done)]);
    // Once it expires, the progress went with the completion.
    assert_eq!(try_claim(claim(6, 7200, 7230, 9000)).await, CLAIMED);
    assert_eq!(try_claim(claim(6, 7230, 7260, 9000)).await, CLAIMED);
}

async fn expired_progress_is_forgotten(store: &dyn IdempotencyStore) {
    let key = key("dlv_paused_long");
    assert_eq!(
        store.claim(&key, &claim(5, 0, 30, 100)).await.unwrap(),
        CLAIMED
    );
    store.pause(&key, 5, &progress(3)).await.unwrap();
    // The pause kept the record's expiry.
    assert_eq!(
        store
            .peek_many(std::slice::from_ref(&key), at(99))
            .await
            .unwrap(),
        [Some(PAUSED)]
    );
    assert_eq!(
        store
            .peek_many(std::slice::from_ref(&key), at(100))
            .await
            .unwrap(),
        [None]
    );
    // An expired record counts as absent, its progress included, for this claim and those
    // after it.
    assert_eq!(
        store.claim(&key, &claim(1, 100, 130, 900)).await.unwrap(),
        CLAIMED
    );
    assert_eq!(
        store.claim(&key, &claim(1, 130, 160, 900)).await.unwrap(),
        CLAIMED
    );
    assert_eq!(
        store.claim(&key, &claim(2, 131, 161, 900)).await.unwrap(),
        CLAIMED
    );

    // A pause without a claim writes nothing.
    let absent = self::key("dlv_never_claimed");
    store.pause(&absent, 1, &progress(1)).await.unwrap();
    assert_eq!(
        store
            .peek_many(std::slice::from_ref(&absent), at(0))
            .await
            .unwrap(),
        [None]
    );
    assert_eq!(
        store.claim(&absent, &claim(1, 0, 30, 60)).await.unwrap(),
        CLAIMED
    );
}

#[tokio::test]
async fn paused_progress_memory() {
    progress_passes_from_claim_to_claim(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn paused_progress_dynamodb() {
    progress_passes_from_claim_to_claim(&aws_world().await.state).await;
}

#[tokio::test]
async fn expired_progress_memory() {
    expired_progress_is_forgotten(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn expired_progress_dynamodb() {
    expired_progress_is_forgotten(&aws_world().await.state).await;
}

/// The item itself: the progress is one small string attribute while paused, gone once
/// completed (the conformance checks cannot see it go, since expiry hides it as well).
#[tokio::test]
async fn the_progress_attribute_goes_with_completion_dynamodb() {
    let world = aws_world().await;
    let store = &world.state;
    let key = key("dlv_paused_item");
    let item = || async {
        store
            .client
            .get_item()
            .table_name(&store.table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(key.as_str().into()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap()
    };
    store.claim(&key, &claim(1, 0, 30, 3600)).await.unwrap();
    store.pause(&key, 1, &progress(1)).await.unwrap();
    let paused = item().await;
    let stored = paused["progress"].as_s().unwrap();
    assert_eq!(
        serde_json::from_str::<Progress>(stored).unwrap(),
        progress(1)
    );
    assert!(stored.len() < 1024, "{} bytes", stored.len());
    assert_eq!(paused["lease_until"].as_n().unwrap(), "0");

    assert_eq!(
        store.claim(&key, &claim(1, 1, 31, 3601)).await.unwrap(),
        resumed(1)
    );
    store
        .complete(&key, 1, &history("delivered"), at(7200))
        .await
        .unwrap();
    let completed = item().await;
    assert!(!completed.contains_key("progress"), "{completed:?}");
    assert!(!completed.contains_key("lease_until"), "{completed:?}");
}

/// An unfinished record as the releases before pausing wrote it (a PutItem with no
/// `progress`) reads, refuses and yields as before, and can then be paused.
#[tokio::test]
async fn claims_of_earlier_releases_load_dynamodb() {
    let world = aws_world().await;
    let store = &world.state;
    let key = key("dlv_earlier_claim");
    let item = [
        ("pk", AttributeValue::S(key.as_str().to_owned())),
        ("token", AttributeValue::N("3".into())),
        ("status", AttributeValue::S("in_progress".into())),
        (
            "lease_until",
            AttributeValue::N(at(30).timestamp_millis().to_string()),
        ),
        (
            "expires_at",
            AttributeValue::N(at(3600).timestamp().to_string()),
        ),
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

    let peeked = store
        .peek_many(std::slice::from_ref(&key), at(1))
        .await
        .unwrap();
    assert_eq!(peeked, [Some(in_progress(30))]);
    assert_eq!(
        store.claim(&key, &claim(3, 1, 31, 3601)).await.unwrap(),
        in_progress(30)
    );
    assert_eq!(
        store.claim(&key, &claim(3, 30, 60, 3630)).await.unwrap(),
        CLAIMED
    );
    store.pause(&key, 3, &progress(1)).await.unwrap();
    assert_eq!(
        store.claim(&key, &claim(3, 31, 61, 3631)).await.unwrap(),
        resumed(1)
    );
}
