//! An endpoint store that remembers what it read for a short while. Lambdas read every
//! endpoint on each ingest and one per worker batch; within a warm container a few seconds
//! of staleness saves a DynamoDB read per request. Writes go through and drop the cache.
//! It keeps the subscribers' index too, built once per read of the whole list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::memory::lock;
use crate::domain::delivery::later;
use crate::domain::endpoint::Endpoint;
use crate::domain::endpoint_index::EndpointIndex;
use crate::domain::ids::EndpointId;
use crate::ports::{
    list_all_endpoints, Clock, EndpointStore, Page, PageRequest, PortError, Subscribers,
};

/// Every endpoint in id order, and the index of the enabled ones.
type All = (Arc<Vec<Endpoint>>, Arc<EndpointIndex>);

struct Cached {
    all: Option<(DateTime<Utc>, All)>,
    one: HashMap<EndpointId, (DateTime<Utc>, Option<Endpoint>)>,
}

pub struct CachedEndpointStore {
    inner: Arc<dyn EndpointStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    cached: Mutex<Cached>,
}

impl CachedEndpointStore {
    pub fn new(inner: Arc<dyn EndpointStore>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            inner,
            clock,
            ttl,
            cached: Mutex::new(Cached {
                all: None,
                one: HashMap::new(),
            }),
        }
    }

    fn fresh(&self, read_at: DateTime<Utc>) -> bool {
        later(read_at, self.ttl) > self.clock.now()
    }

    fn forget(&self) {
        let mut cached = lock(&self.cached);
        cached.all = None;
        cached.one.clear();
    }

    /// Every endpoint and the index, from the cache when it is fresh.
    async fn all(&self) -> Result<All, PortError> {
        if let Some((at, all)) = &lock(&self.cached).all {
            if self.fresh(*at) {
                return Ok(all.clone());
            }
        }
        let mut all = list_all_endpoints(self.inner.as_ref()).await?;
        // Sorted, so cursors (the last id of a page) work whatever order the store used.
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let index = Arc::new(EndpointIndex::new(all.clone()));
        let all = (Arc::new(all), index);
        lock(&self.cached).all = Some((self.clock.now(), all.clone()));
        Ok(all)
    }
}

#[async_trait]
impl EndpointStore for CachedEndpointStore {
    async fn put(&self, endpoint: &Endpoint) -> Result<(), PortError> {
        let result = self.inner.put(endpoint).await;
        self.forget();
        result
    }

    async fn get(&self, id: &EndpointId) -> Result<Option<Endpoint>, PortError> {
        if let Some((at, found)) = lock(&self.cached).one.get(id) {
            if self.fresh(*at) {
                return Ok(found.clone());
            }
        }
        let found = self.inner.get(id).await?;
        lock(&self.cached)
            .one
            .insert(id.clone(), (self.clock.now(), found.clone()));
        Ok(found)
    }

    /// Pages are cut from the cached list, in id order like every store's.
    async fn list(&self, page: PageRequest) -> Result<Page<Endpoint>, PortError> {
        let (all, _) = self.all().await?;
        let start = match &page.cursor {
            Some(cursor) => {
                // Refused like every store refuses it, rather than read as a place in the list.
                let after = EndpointId::parse(cursor)
                    .map_err(|e| PortError::InvalidCursor(e.to_string()))?;
                all.partition_point(|e| e.id <= after)
            }
            None => 0,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let items: Vec<Endpoint> = all.iter().skip(start).take(limit).cloned().collect();
        let next_cursor = (start + limit < all.len())
            .then(|| items.last().map(|e| e.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, id: &EndpointId) -> Result<bool, PortError> {
        let result = self.inner.delete(id).await;
        self.forget();
        result
    }
}

#[async_trait]
impl Subscribers for CachedEndpointStore {
    async fn index(&self) -> Result<Arc<EndpointIndex>, PortError> {
        Ok(self.all().await?.1)
    }
}

/// The index as the store holds it now, for a system built without an endpoint cache: read
/// afresh on every call, unless the store's generation says nothing changed since the last
/// read (in memory, where rebuilding it per request cost more than the rest of ingest).
pub struct Current {
    store: Arc<dyn EndpointStore>,
    last: Mutex<Option<(u64, Arc<EndpointIndex>)>>,
}

impl Current {
    pub fn new(store: Arc<dyn EndpointStore>) -> Self {
        Self {
            store,
            last: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Subscribers for Current {
    async fn index(&self) -> Result<Arc<EndpointIndex>, PortError> {
        // Read before the list: a write in between changes it, so the next call reads again.
        let generation = self.store.generation();
        if let (Some(now), Some((then, index))) = (generation, lock(&self.last).as_ref()) {
            if now == *then {
                return Ok(index.clone());
            }
        }
        let index = Arc::new(EndpointIndex::new(
            list_all_endpoints(self.store.as_ref()).await?,
        ));
        if let Some(now) = generation {
            *lock(&self.last) = Some((now, index.clone()));
        }
        Ok(index)
    }
}
