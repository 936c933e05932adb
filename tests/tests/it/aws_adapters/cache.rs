//! The endpoint cache the Lambda functions run (`CachedEndpointStore`, 5 s by default): the
//! endpoint-store checks of `endpoints.rs` over the cache on memory and on DynamoDB, then
//! what only a cache can get wrong: a write made behind its back is seen once the TTL has
//! passed and not before, and a write through it is seen at once. Without a cache
//! (`Current`), the index is the store's as it is now, reused only while an in-memory store
//! says nothing changed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use authhooks::adapters::cache::{CachedEndpointStore, Current};
use authhooks::adapters::memory::{ManualClock, MemoryEndpointStore};
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::ids::EndpointId;
use authhooks::ports::{list_all_endpoints, EndpointStore, PageRequest, Subscribers};
use authhooks_tests::moto::aws_world;

use super::endpoints::{endpoints, endpoints_round_trip_and_page};
use super::{at, endpoint_id};

const TTL: Duration = Duration::from_secs(5);

fn cache_over(inner: Arc<dyn EndpointStore>) -> (CachedEndpointStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(0)));
    (CachedEndpointStore::new(inner, clock.clone(), TTL), clock)
}

#[tokio::test]
async fn endpoints_cached_over_memory() {
    let (cache, _) = cache_over(Arc::new(MemoryEndpointStore::new()));
    endpoints_round_trip_and_page(&cache).await;
}

#[tokio::test]
async fn endpoints_cached_over_dynamodb() {
    let (cache, _) = cache_over(Arc::new(aws_world().await.endpoints));
    endpoints_round_trip_and_page(&cache).await;
}

#[tokio::test]
async fn cache_over_memory_expires_and_invalidates() {
    expires_after_the_ttl(Arc::new(MemoryEndpointStore::new())).await;
    writes_through_it_are_seen_at_once(Arc::new(MemoryEndpointStore::new())).await;
}

#[tokio::test]
async fn cache_over_dynamodb_expires_and_invalidates() {
    expires_after_the_ttl(Arc::new(aws_world().await.endpoints)).await;
    writes_through_it_are_seen_at_once(Arc::new(aws_world().await.endpoints)).await;
}

#[tokio::test]
async fn the_current_index_follows_every_write_and_memory_reuses_it_until_one() {
    the_index_is_current(Arc::new(MemoryEndpointStore::new()), true).await;
    the_index_is_current(Arc::new(aws_world().await.endpoints), false).await;
}

/// Writes straight to the store (admin's, or another process's) show in the next index;
/// with no write between, a store that can tell (`reuses`) hands out the same index.
async fn the_index_is_current(store: Arc<dyn EndpointStore>, reuses: bool) {
    let all = endpoints();
    let (first, later) = all.split_at(110);
    for endpoint in first {
        store.put(endpoint).await.unwrap();
    }
    let current = Current::new(store.clone());
    let indexed = |index: &authhooks::domain::endpoint_index::EndpointIndex| ids(index.endpoints());
    let one = current.index().await.unwrap();
    assert_eq!(indexed(&one), ids(first));
    let again = current.index().await.unwrap();
    assert_eq!(
        Arc::ptr_eq(&one, &again),
        reuses,
        "reused with no write between"
    );

    store.put(&later[0]).await.unwrap();
    let mut disabled = first[4].clone();
    disabled.disable("410 Gone", at(1));
    store.put(&disabled).await.unwrap();
    assert!(store.delete(&first[7].id).await.unwrap());
    let mut expected = ids(first);
    expected.insert(later[0].id.clone());
    expected.remove(&first[4].id);
    expected.remove(&first[7].id);
    assert_eq!(
        indexed(&current.index().await.unwrap()),
        expected,
        "writes to the store did not show in the next index"
    );
}

/// The ids the cache lists, walked in pages of 40 (several of the cache's own pages).
async fn listed(cache: &CachedEndpointStore) -> BTreeSet<EndpointId> {
    let mut ids = BTreeSet::new();
    let mut page = PageRequest::first(40);
    loop {
        let got = cache.list(page.clone()).await.unwrap();
        for endpoint in got.items {
            assert!(ids.insert(endpoint.id), "an endpoint was listed twice");
        }
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return ids,
        }
    }
}

fn ids(endpoints: &[Endpoint]) -> BTreeSet<EndpointId> {
    endpoints.iter().map(|e| e.id.clone()).collect()
}

/// Changes made straight to the inner store, as another Lambda instance (or the uncached
/// admin function) makes them: the cache serves its copy until the TTL is up, then reads
/// again.
async fn expires_after_the_ttl(inner: Arc<dyn EndpointStore>) {
    let all = endpoints();
    // More than one inner page (100) and several cache pages, so a refresh pages the store.
    let (first, later) = all.split_at(150);
    for endpoint in first {
        inner.put(endpoint).await.unwrap();
    }
    let (cache, clock) = cache_over(inner.clone());
    assert_eq!(listed(&cache).await, ids(first));
    let watched = &first[3];
    assert_eq!(
        cache.get(&watched.id).await.unwrap().as_ref(),
        Some(watched)
    );

    let mut changed = watched.clone();
    changed.disable("410 Gone", at(1));
    inner.put(&changed).await.unwrap();
    inner.put(&later[0]).await.unwrap();
    assert!(inner.delete(&first[9].id).await.unwrap());
    let mut now_stored = ids(first);
    now_stored.insert(later[0].id.clone());
    now_stored.remove(&first[9].id);

    clock.advance(TTL - Duration::from_millis(1));
    assert_eq!(
        cache.get(&watched.id).await.unwrap().as_ref(),
        Some(watched),
        "the cache should still serve its copy just before the TTL"
    );
    assert_eq!(
        listed(&cache).await,
        ids(first),
        "the cache should still list its copy just before the TTL"
    );

    clock.advance(Duration::from_millis(1));
    assert_eq!(
        cache.get(&watched.id).await.unwrap(),
        Some(changed),
        "a write behind the cache's back was not seen once the TTL had passed"
    );
    assert_eq!(
        listed(&cache).await,
        now_stored,
        "the list did not show writes behind the cache's back once the TTL had passed"
    );
}

/// Put and delete through the cache drop what it remembers: the next get and list show
/// them with no time passing.
async fn writes_through_it_are_seen_at_once(inner: Arc<dyn EndpointStore>) {
    let all = endpoints();
    let (first, later) = all.split_at(120);
    for endpoint in first {
        inner.put(endpoint).await.unwrap();
    }
    let (cache, _clock) = cache_over(inner.clone());
    let target = &first[5];
    let gone = &first[6];
    // Warm every part of the cache first: the whole list and single reads.
    assert_eq!(listed(&cache).await, ids(first));
    assert!(cache.get(&target.id).await.unwrap().is_some());
    assert!(cache.get(&gone.id).await.unwrap().is_some());
    let unknown = endpoint_id("ep_00000000000000000000000000");
    assert_eq!(cache.get(&unknown).await.unwrap(), None);

    let mut changed = target.clone();
    changed.disable("410 Gone", at(1));
    cache.put(&changed).await.unwrap();
    assert_eq!(
        cache.get(&target.id).await.unwrap(),
        Some(changed.clone()),
        "a put through the cache was not seen by get"
    );
    let page = cache.list(PageRequest::first(100)).await.unwrap();
    let shown = page.items.iter().find(|e| e.id == target.id);
    assert_eq!(
        shown,
        Some(&changed),
        "a put through the cache was not seen by list"
    );

    cache.put(&later[0]).await.unwrap();
    let mut expected = ids(first);
    expected.insert(later[0].id.clone());
    assert_eq!(
        listed(&cache).await,
        expected,
        "a new endpoint put through the cache was not listed"
    );

    assert!(cache.delete(&gone.id).await.unwrap());
    assert_eq!(
        cache.get(&gone.id).await.unwrap(),
        None,
        "a delete through the cache was not seen by get"
    );
    expected.remove(&gone.id);
    assert_eq!(
        listed(&cache).await,
        expected,
        "a delete through the cache was not seen by list"
    );
    assert_eq!(
        list_all_endpoints(&cache).await.unwrap().len(),
        expected.len()
    );
}
