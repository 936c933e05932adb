//! The in-memory state store forgets idempotency records when they expire, as DynamoDB's
//! TTL does, and nothing before.

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::executor::block_on;

use super::MemoryStateStore;
use crate::ports::{Claim, ClaimOutcome, IdempotencyKey, IdempotencyStore};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn key(n: u32) -> IdempotencyKey {
    let delivery = crate::domain::ids::DeliveryId::parse(&format!("dlv_{n:04}")).unwrap();
    IdempotencyKey::delivery(&delivery)
}

fn claim_at(now: i64, ttl_secs: i64) -> Claim {
    Claim {
        token: 1,
        now: t(now),
        lease_until: t(now) + Duration::seconds(20),
        expires_at: t(now) + Duration::seconds(ttl_secs),
    }
}

/// Claims and completes `n` deliveries at `now`, each remembered for `ttl_secs`.
async fn deliver(store: &MemoryStateStore, keys: std::ops::Range<u32>, now: i64, ttl_secs: i64) {
    for n in keys {
        let claim = claim_at(now, ttl_secs);
        store.claim(&key(n), &claim).await.unwrap();
        store
            .complete(&key(n), 1, &[], claim.expires_at)
            .await
            .unwrap();
    }
}

#[test]
fn records_are_forgotten_when_they_expire_and_not_before() {
    block_on(forgotten_when_they_expire());
}

async fn forgotten_when_they_expire() {
    let store = MemoryStateStore::new();
    let week = 7 * 86_400;
    deliver(&store, 0..100, 0, week).await;
    deliver(&store, 100..150, 3_600, week).await;
    assert_eq!(store.records(), 150);

    // A second before the first hundred expire, nothing goes.
    assert_eq!(store.forget_expired(t(week - 1)), 0);
    assert_eq!(store.records(), 150);
    // At their expiry they go; the fifty written an hour later stay, still delivered.
    assert_eq!(store.forget_expired(t(week)), 100);
    assert_eq!(store.records(), 50);
    let seen = store.peek_many(&[key(0), key(100)], t(week)).await.unwrap();
    assert_eq!(seen[0], None);
    assert!(matches!(seen[1], Some(ClaimOutcome::Completed { .. })));
    // A later claim forgets what expired by its own time, the rest with it.
    store
        .claim(&key(500), &claim_at(week + 3_600, week))
        .await
        .unwrap();
    assert_eq!(store.records(), 1);
}

#[test]
fn a_record_claimed_again_lives_until_its_new_expiry() {
    block_on(claimed_again());
}

async fn claimed_again() {
    let store = MemoryStateStore::new();
    store.claim(&key(1), &claim_at(0, 100)).await.unwrap();
    // Its lease lapsed; a retry claims it again later, with a later expiry.
    let again = Claim {
        token: 2,
        ..claim_at(50, 100)
    };
    assert!(matches!(
        store.claim(&key(1), &again).await.unwrap(),
        ClaimOutcome::Claimed { .. }
    ));
    assert_eq!(store.forget_expired(t(100)), 0, "the first expiry is stale");
    assert_eq!(store.records(), 1);
    assert_eq!(store.forget_expired(t(150)), 1);
    assert_eq!(store.records(), 0);
}
