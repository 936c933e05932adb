//! Write counters around the real in-memory stores: a refused request must leave every
//! store untouched, and a counter sees writes that a before/after snapshot could miss (a
//! claim released again, an endpoint put back unchanged). The deliveries queue keeps a copy
//! of every job it was given, so a snapshot compares what is queued, not only how much.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use authhooks::adapters::memory::{MemoryEndpointStore, MemoryQueue, MemoryStateStore};
use authhooks::domain::delivery::{AttemptRecord, Progress};
use authhooks::domain::endpoint::Endpoint;
use authhooks::domain::ids::EndpointId;
use authhooks::ports::{
    Claim, ClaimOutcome, DeliveryQueue, EndpointStore, Enqueue, IdempotencyKey, IdempotencyStore,
    Page, PageRequest, PortError,
};
use serde_json::Value;

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
        history: &[AttemptRecord],
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.wrote();
        self.inner.complete(key, token, history, expires_at).await
    }
    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        self.wrote();
        self.inner.release(key, token).await
    }
    async fn pause(
        &self,
        key: &IdempotencyKey,
        token: u64,
        progress: &Progress,
    ) -> Result<(), PortError> {
        self.wrote();
        self.inner.pause(key, token, progress).await
    }
    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        self.inner.peek_many(keys, now).await
    }
}

/// The deliveries queue and every job ever enqueued on it, in order, as JSON.
pub struct WatchedQueue {
    pub inner: MemoryQueue,
    jobs: Mutex<Vec<Value>>,
}

impl WatchedQueue {
    pub fn new(inner: MemoryQueue) -> Self {
        Self {
            inner,
            jobs: Mutex::new(Vec::new()),
        }
    }

    pub fn jobs(&self) -> Vec<Value> {
        self.jobs.lock().unwrap().clone()
    }
}

#[async_trait]
impl DeliveryQueue for WatchedQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        self.jobs
            .lock()
            .unwrap()
            .extend(jobs.iter().map(|e| serde_json::to_value(&e.job).unwrap()));
        self.inner.enqueue(jobs).await
    }
}
