//! The state table's ports, the same checks against memory and DynamoDB: claims and their
//! leases, tokens and expiry; completion and release by the current holder only; the
//! endpoint state's compare-and-set, also under concurrent writers.

use std::sync::Arc;
use std::time::Duration;

use authhooks::adapters::memory::MemoryStateStore;
use authhooks::domain::admission::EndpointState;
use authhooks::domain::circuit::CircuitState;
use authhooks::domain::ids::DeliveryId;
use authhooks::domain::rate_limit::TokenBucket;
use authhooks::ports::{Claim, ClaimOutcome, EndpointStateStore, IdempotencyKey, IdempotencyStore};
use authhooks_tests::moto::aws_world;

use super::{at, endpoint_id, history, CLAIMED};

fn claim(token: u64, now: i64, lease_until: i64, expires_at: i64) -> Claim {
    Claim {
        token,
        now: at(now),
        lease_until: at(lease_until),
        expires_at: at(expires_at),
    }
}

fn delivery_key(id: &str) -> IdempotencyKey {
    IdempotencyKey::delivery(&DeliveryId::parse(id).unwrap())
}

fn in_progress(lease_until: i64) -> ClaimOutcome {
    ClaimOutcome::InProgress {
        lease_until: at(lease_until),
    }
}

fn completed(label: &str) -> ClaimOutcome {
    ClaimOutcome::Completed {
        history: history(label),
    }
}

async fn claims_follow_leases_tokens_and_expiry(store: &dyn IdempotencyStore) {
    let key = delivery_key("dlv_claims");
    let try_claim = |c: Claim| {
        let key = key.clone();
        async move { store.claim(&key, &c).await.unwrap() }
    };
    assert_eq!(try_claim(claim(1, 0, 30, 3600)).await, CLAIMED);
    // Another copy of the same attempt, or an older one, waits for the lease.
    assert_eq!(try_claim(claim(1, 1, 31, 3601)).await, in_progress(30));
    assert_eq!(try_claim(claim(0, 29, 59, 3629)).await, in_progress(30));
    // The lease lapses at its end exactly.
    assert_eq!(try_claim(claim(1, 30, 60, 3630)).await, CLAIMED);
    assert_eq!(try_claim(claim(1, 31, 61, 3631)).await, in_progress(60));
    // A later attempt supersedes an unfinished one at once.
    assert_eq!(try_claim(claim(2, 32, 90, 3632)).await, CLAIMED);
    assert_eq!(try_claim(claim(2, 33, 93, 3633)).await, in_progress(90));

    store
        .complete(&key, 2, &history("3 deliveries"), at(7200))
        .await
        .unwrap();
    // Completed is final, for any token, until it expires.
    assert_eq!(
        try_claim(claim(9, 100, 130, 3700)).await,
        completed("3 deliveries")
    );
    assert_eq!(
        try_claim(claim(2, 7199, 7229, 9999)).await,
        completed("3 deliveries")
    );
    assert_eq!(try_claim(claim(1, 7200, 7230, 9999)).await, CLAIMED);

    // An expired in-progress record counts as absent, whatever its lease and token.
    let other = IdempotencyKey::delivery(&DeliveryId::parse("dlv_expiring").unwrap());
    assert_eq!(
        store
            .claim(&other, &claim(5, 0, 10_000, 100))
            .await
            .unwrap(),
        CLAIMED
    );
    assert_eq!(
        store.claim(&other, &claim(1, 99, 130, 200)).await.unwrap(),
        in_progress(10_000)
    );
    assert_eq!(
        store.claim(&other, &claim(1, 100, 130, 200)).await.unwrap(),
        CLAIMED
    );
}

async fn stale_tokens_change_nothing(store: &dyn IdempotencyStore) {
    let key = delivery_key("dlv_stale");
    let probe = |token: u64, now: i64| {
        let key = key.clone();
        async move {
            store
                .claim(&key, &claim(token, now, now + 30, now + 3600))
                .await
                .unwrap()
        }
    };
    assert_eq!(probe(2, 0).await, CLAIMED);

    store
        .complete(&key, 1, &history("stale"), at(7200))
        .await
        .unwrap();
    store.release(&key, 1).await.unwrap();
    assert_eq!(
        probe(2, 1).await,
        in_progress(30),
        "a stale token completed or released it"
    );

    store.release(&key, 2).await.unwrap();
    assert_eq!(
        probe(1, 2).await,
        CLAIMED,
        "release by the holder frees the key"
    );

    store
        .complete(&key, 1, &history("done"), at(7200))
        .await
        .unwrap();
    store.release(&key, 1).await.unwrap();
    store
        .complete(&key, 1, &history("again"), at(9000))
        .await
        .unwrap();
    assert_eq!(
        probe(3, 3).await,
        completed("done"),
        "a completed record changed"
    );
    assert_eq!(probe(3, 7200).await, CLAIMED, "its expiry changed");

    let absent = delivery_key("dlv_never_claimed");
    store
        .complete(&absent, 1, &history("ghost"), at(7200))
        .await
        .unwrap();
    store.release(&absent, 1).await.unwrap();
    assert_eq!(
        store.claim(&absent, &claim(1, 0, 30, 60)).await.unwrap(),
        CLAIMED
    );
}

fn counted(failures: u32) -> EndpointState {
    EndpointState {
        circuit: CircuitState::Closed { failures },
        bucket: None,
        recovered_at: None,
    }
}

async fn state_is_compare_and_set(store: &dyn EndpointStateStore) {
    let id = endpoint_id("ep_cas");
    let fresh = store.load(&id).await.unwrap();
    assert_eq!((fresh.version, fresh.value), (0, EndpointState::default()));

    let open = EndpointState {
        circuit: CircuitState::Open {
            opened_at: at(5),
            open_since: at(1),
        },
        bucket: Some(TokenBucket {
            tokens: 2.5,
            updated_at: at(5),
        }),
        // When it was last recovered by hand, kept with the rest.
        recovered_at: Some(at(3)),
    };
    let one = counted(1);
    let (a, b) = tokio::join!(store.save(&id, &one, 0), store.save(&id, &open, 0));
    assert!(
        a.unwrap() ^ b.unwrap(),
        "both or neither of two saves on version 0 won"
    );
    let stored = store.load(&id).await.unwrap();
    assert_eq!(stored.version, 1);
    assert!(stored.value == counted(1) || stored.value == open);

    assert!(!store.save(&id, &counted(7), 0).await.unwrap());
    assert!(!store.save(&id, &counted(7), 2).await.unwrap());
    assert!(store.save(&id, &open, 1).await.unwrap());
    assert!(
        !store.save(&id, &counted(8), 1).await.unwrap(),
        "the same version won twice"
    );
    let stored = store.load(&id).await.unwrap();
    assert_eq!((stored.version, stored.value), (2, open));

    let half_open = EndpointState {
        circuit: CircuitState::HalfOpen {
            open_since: at(1),
            since: at(65),
            admitted: 3,
            successes: 1,
        },
        bucket: None,
        recovered_at: None,
    };
    assert!(store.save(&id, &half_open, 2).await.unwrap());
    assert_eq!(store.load(&id).await.unwrap().value, half_open);
}

async fn concurrent_increments_are_never_lost(store: Arc<dyn EndpointStateStore>) {
    const TASKS: u32 = 8;
    const INCREMENTS: u32 = 25;
    let id = endpoint_id("ep_counter");
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    loop {
                        let current = store.load(&id).await.unwrap();
                        let CircuitState::Closed { failures } = current.value.circuit else {
                            panic!("unexpected state {:?}", current.value);
                        };
                        if store
                            .save(&id, &counted(failures + 1), current.version)
                            .await
                            .unwrap()
                        {
                            break;
                        }
                        // Lost the race: back off a little, staggered per task, then reload.
                        tokio::time::sleep(Duration::from_millis(1 + u64::from(task))).await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let end = store.load(&id).await.unwrap();
    assert_eq!(end.value, counted(TASKS * INCREMENTS));
    assert_eq!(end.version, u64::from(TASKS * INCREMENTS));
}

#[tokio::test]
async fn claims_memory() {
    claims_follow_leases_tokens_and_expiry(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn claims_dynamodb() {
    claims_follow_leases_tokens_and_expiry(&aws_world().await.state).await;
}

#[tokio::test]
async fn stale_tokens_memory() {
    stale_tokens_change_nothing(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn stale_tokens_dynamodb() {
    stale_tokens_change_nothing(&aws_world().await.state).await;
}

#[tokio::test]
async fn compare_and_set_memory() {
    state_is_compare_and_set(&MemoryStateStore::new()).await;
}

#[tokio::test]
async fn compare_and_set_dynamodb() {
    state_is_compare_and_set(&aws_world().await.state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_memory() {
    concurrent_increments_are_never_lost(Arc::new(MemoryStateStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_dynamodb() {
    concurrent_increments_are_never_lost(Arc::new(aws_world().await.state)).await;
}
