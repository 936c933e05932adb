//! Write counters around the real in-memory stores: a refused request must leave every
//! store untouched, and a counter sees writes that a before/after snapshot could miss (a
//! claim released again, an endpoint put back unchanged).

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use authhooks::adapters::memory::{MemoryEndpointStore, MemoryStateStore};
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::ids::EndpointId;
use authhooks::ports::{
    Claim, ClaimOutcome, EndpointStore, IdempotencyKey, IdempotencyStore, Page, PageRequest,
    PortError,
};

#[derive(Default)]
pub struct Watched<T> {
    pub inner: T,
    writes: AtomicUsize,
}

impl<T> Watched<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            writes: AtomicUsize::new(0),
        }
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl EndpointStore for Watched<MemoryEndpointStore> {
    async fn put(&self, endpoint: &Endpoint) -> Result<(), PortError> {
        self.wrote();
        self.inner.put(endpoint).await
    }
    async fn get(&self, id: &EndpointId) -> Result<Option<Endpoint>, PortError> {
        self.inner.get(id).await
    }
    async fn list(&self, page: PageRequest) -> Result<Page<Endpoint>, PortError> {
        self.inner.list(page).await
    }
    async fn delete(&self, id: &EndpointId) -> Result<bool, PortError> {
        self.wrote();
        self.inner.delete(id).await
    }
}

#[async_trait]
impl IdempotencyStore for Watched<MemoryStateStore> {
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError> {
        self.wrote();
        self.inner.claim(key, claim).await
    }
    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: u64,
        detail: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.wrote();
        self.inner.complete(key, token, detail, expires_at).await
    }
    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        self.wrote();
        self.inner.release(key, token).await
    }
    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        self.inner.peek_many(keys, now).await
    }
}
