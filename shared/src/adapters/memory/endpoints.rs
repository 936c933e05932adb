//! Endpoints in a map, listed in id order with the last id as the cursor; a generation
//! counted up on every write tells readers when what they derived is out of date.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::ports::{EndpointStore, Page, PageRequest, PortError};

#[derive(Debug, Default)]
pub struct MemoryEndpointStore {
    endpoints: Mutex<BTreeMap<EndpointId, Endpoint>>,
    generation: AtomicU64,
}

impl MemoryEndpointStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EndpointStore for MemoryEndpointStore {
    async fn put(&self, endpoint: &Endpoint) -> Result<(), PortError> {
        lock(&self.endpoints).insert(endpoint.id.clone(), endpoint.clone());
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn get(&self, id: &EndpointId) -> Result<Option<Endpoint>, PortError> {
        Ok(lock(&self.endpoints).get(id).cloned())
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Endpoint>, PortError> {
        let endpoints = lock(&self.endpoints);
        let start = match &page.cursor {
            Some(cursor) => {
                let after = EndpointId::parse(cursor)
                    .map_err(|e| PortError::InvalidCursor(e.to_string()))?;
                Bound::Excluded(after)
            }
            None => Bound::Unbounded,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let mut items: Vec<Endpoint> = endpoints
            .range((start, Bound::Unbounded))
            .take(limit + 1)
            .map(|(_, e)| e.clone())
            .collect();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, id: &EndpointId) -> Result<bool, PortError> {
        let existed = lock(&self.endpoints).remove(id).is_some();
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(existed)
    }

    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::SeqCst))
    }
}
