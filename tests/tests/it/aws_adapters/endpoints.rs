//! The endpoint store, the same checks against memory and DynamoDB: endpoints round-trip
//! whole, put replaces, delete says whether there was one, and paging returns every
//! endpoint exactly once; an item stored before `ordering` existed loads unordered.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use authhooks::adapters::memory::{MemoryEndpointStore, SeededEntropy};
use authhooks::domain::endpoint::{Endpoint, UrlPolicy};
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::order::DeliveryOrder;
use authhooks::ports::{list_all_endpoints, EndpointStore, Entropy, PageRequest, PortError};
use authhooks_tests::moto::aws_world;

use super::at;

/// More than two of the port's largest pages (100), so a cache's read of every endpoint
/// spans several pages of the store under it.
const COUNT: usize = 250;

/// Endpoints as the admin API makes them, every optional part filled in on some.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let entropy = SeededEntropy::new(42);
    let policy = UrlPolicy::default();
    (0..COUNT)
        .map(|i| {
            let body = if i % 2 == 0 {
                json!({"url": format!("https://hooks{i}.example.com/in"), "event_types": ["user.*"]})
            } else {
                json!({
                    "url": format!("https://hooks{i}.example.com/in?x=1"),
                    "event_types": ["user.created", "session.*"],
                    "tenant_id": "acme", "origin": "payload", "headers": {"x-team": "cms"},
                    "timeout_ms": 5000,
                    "rate_limit": {"requests_per_second": 2.5, "burst_size": 5},
                    "retry": {"initial_delay_ms": 1000, "backoff_multiplier": 1.5,
                              "max_delay_ms": 60000, "max_retries": 4},
                    "description": format!("endpoint number {i}"), "ordering": "none"
                })
            };
            parse_new(&body, &policy, at(0), &mut || entropy.u128(), entropy.bytes32())
                .unwrap_or_else(|e| panic!("invalid endpoint {body}: {e:?}"))
                .0
        })
        .collect()
}

pub(super) async fn endpoints_round_trip_and_page(store: &dyn EndpointStore) {
    let all = endpoints();
    for endpoint in &all {
        store.put(endpoint).await.unwrap();
    }
    for endpoint in &all[..2] {
        assert_eq!(
            store.get(&endpoint.id).await.unwrap().as_ref(),
            Some(endpoint)
        );
    }

    let mut changed = all[1].clone();
    changed.disable("410 Gone", at(60));
    store.put(&changed).await.unwrap();
    assert_eq!(store.get(&changed.id).await.unwrap(), Some(changed));

    let mut seen = Vec::new();
    let mut page = PageRequest::first(40);
    let mut pages = 0;
    loop {
        let got = store.list(page.clone()).await.unwrap();
        assert!(got.items.len() <= 40);
        pages += 1;
        seen.extend(got.items.into_iter().map(|e| e.id));
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let distinct: BTreeSet<_> = seen.iter().cloned().collect();
    let expected: BTreeSet<_> = all.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        seen.len(),
        COUNT,
        "an endpoint was listed twice or not at all"
    );
    assert_eq!(distinct, expected);
    assert_eq!(
        pages,
        COUNT.div_ceil(40),
        "the last page did not say it was the last"
    );

    let gone = &all[7].id;
    assert!(store.delete(gone).await.unwrap());
    assert!(!store.delete(gone).await.unwrap());
    assert_eq!(store.get(gone).await.unwrap(), None);
    assert_eq!(list_all_endpoints(store).await.unwrap().len(), COUNT - 1);

    let bad = PageRequest {
        limit: 10,
        cursor: Some("not a cursor".into()),
    };
    assert!(matches!(
        store.list(bad).await,
        Err(PortError::InvalidCursor(_))
    ));
}

#[tokio::test]
async fn endpoints_memory() {
    endpoints_round_trip_and_page(&MemoryEndpointStore::new()).await;
}

#[tokio::test]
async fn endpoints_dynamodb() {
    endpoints_round_trip_and_page(&aws_world().await.endpoints).await;
}

#[tokio::test]
async fn an_endpoint_item_without_ordering_loads_unordered_dynamodb() {
    let world = aws_world().await;
    let endpoint = endpoints().remove(0);
    assert_eq!(endpoint.ordering, DeliveryOrder::Subject);
    world.endpoints.put(&endpoint).await.unwrap();
    // The item as a release before `ordering` wrote it.
    world
        .dynamodb
        .update_item()
        .table_name(&world.tables.endpoints)
        .key("id", AttributeValue::S(endpoint.id.to_string()))
        .update_expression("REMOVE ordering")
        .send()
        .await
        .unwrap();
    let loaded = world.endpoints.get(&endpoint.id).await.unwrap().unwrap();
    assert_eq!(loaded.ordering, DeliveryOrder::None);
    assert_eq!(
        loaded,
        Endpoint {
            ordering: DeliveryOrder::None,
            ..endpoint
        }
    );
}
