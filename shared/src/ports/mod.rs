//! The ports: small async traits the use cases run over. Each has a real adapter (DynamoDB,
//! SQS, HTTP) and an in-memory one in `adapters::memory` with the same semantics,
//! conditional writes included.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::admission::EndpointState;
use crate::domain::delivery::{AttemptRecord, FailureRecord, Progress};
use crate::domain::delivery_log::{LogBatch, LogEntry, LogQuery, Tally};
use crate::domain::endpoint::Endpoint;
use crate::domain::endpoint_index::EndpointIndex;
use crate::domain::ids::{DeliveryId, EndpointId};
use crate::domain::outcome::AttemptResult;

mod queue;
mod sources;

pub use queue::{
    DeadLetterQueue, DecodeError, DeliveryQueue, Enqueue, FanOutQueue, Hold, QueueConsumer,
    QueueHold, QueueMessage, QueueRecall, Received, MAX_HOLD, ORDERED_MAX_RECEIVES,
};
pub use sources::{Scripts, SourceStore, SOURCE_FAILURE_TTL_DAYS};

/// The one error type of the ports layer. Adapters map their SDK errors into it and keep
/// the SDK's text only as a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The dependency did not answer or refused for now (throttling, network, 5xx).
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    /// Stored or queued data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The dependency rejected the request itself (too large, invalid); retrying won't help.
    #[error("rejected by the dependency: {0}")]
    Rejected(String),
    /// A list cursor this store never handed out (tampered, or from another list): the
    /// caller's mistake, answered 400, never a dependency failure.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
}

impl PortError {
    /// Whether trying the same call again later can succeed; decides retry versus DLQ.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub const MAX_LIMIT: usize = 100;

    pub fn first(limit: usize) -> Self {
        Self {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            cursor: None,
        }
    }
}

#[async_trait]
pub trait EndpointStore: Send + Sync {
    /// Creates or replaces the endpoint.
    async fn put(&self, endpoint: &Endpoint) -> Result<(), PortError>;
    async fn get(&self, id: &EndpointId) -> Result<Option<Endpoint>, PortError>;
    /// One page of endpoints; following `next_cursor` visits each exactly once.
    async fn list(&self, page: PageRequest) -> Result<Page<Endpoint>, PortError>;
    /// Whether it existed.
    async fn delete(&self, id: &EndpointId) -> Result<bool, PortError>;
    /// A number that changes whenever the stored endpoints change, where the store can tell
    /// at no cost (in memory): lets a reader keep what it derived from them until then.
    /// `None`: it cannot tell, and readers read again.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// The enabled endpoints, indexed by what they subscribe to: what ingest matches events
/// against, and what a fan-out pages through.
#[async_trait]
pub trait Subscribers: Send + Sync {
    async fn index(&self) -> Result<Arc<EndpointIndex>, PortError>;
}

/// Every endpoint, page by page.
pub async fn list_all_endpoints(store: &dyn EndpointStore) -> Result<Vec<Endpoint>, PortError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let got = store.list(page.clone()).await?;
        all.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(all),
        }
    }
}

/// The key of an idempotency record: `dlv#<delivery id>`. Deliveries are the one unit of
/// deduplication: ingest recognises a replayed event by its deliveries' records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn delivery(id: &DeliveryId) -> Self {
        Self(format!("dlv#{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request to own the work behind a key for a while (the in-progress lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Orders claims on one key: a higher token supersedes an unfinished lower one.
    pub token: u64,
    pub now: DateTime<Utc>,
    /// Until when the claimant may finish; after it, anyone may claim again.
    pub lease_until: DateTime<Utc>,
    /// When the record may be forgotten (TTL).
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller owns the work now. `progress` is what an earlier holder left with
    /// [`IdempotencyStore::pause`] on this unfinished record, if any; whether it applies
    /// (its generation) is the caller's to decide.
    Claimed { progress: Option<Progress> },
    /// The delivery was made; `history` is what `complete` stored: its attempts, oldest
    /// first.
    Completed { history: Vec<AttemptRecord> },
    /// Someone else holds an unexpired lease with an equal or higher token.
    InProgress { lease_until: DateTime<Utc> },
}

/// Idempotency records with the in-progress / completed pattern. A claim succeeds when
/// there is no live record, the record's lease has lapsed, or it is in progress under a
/// lower token; a completed record is final until it expires. Expiry is checked on every
/// read, since TTL deletion is lazy. An unfinished record may carry a [`Progress`] (see
/// `pause`), which passes from claim to claim until the record completes or expires.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError>;
    /// Marks the work done with the attempts that did it, if the caller's claim (by token)
    /// is still the current one.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: u64,
        history: &[AttemptRecord],
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Gives the claim up (the work failed half-way), if it is still the caller's. The
    /// record goes, and any progress with it.
    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError>;
    /// Ends the caller's claim without completing it and keeps `progress` with the record for
    /// whoever claims next (any token may claim at once, as after a lapsed lease): an ordered
    /// delivery held for a retry. A no-op if the claim is no longer the caller's (by token).
    /// The record keeps its expiry and still reads as seen (`InProgress`, lease lapsed).
    async fn pause(
        &self,
        key: &IdempotencyKey,
        token: u64,
        progress: &Progress,
    ) -> Result<(), PortError>;
    /// The live records under `keys`, in the order of `keys`, read in batches and possibly
    /// a moment stale: fit for "has this been seen?", where a stale `None` only sends work
    /// again that the claims then absorb, not for deciding who owns a key.
    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError>;
}

/// A value with the version it was read at, for compare-and-set.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    /// 0 when nothing is stored yet.
    pub version: u64,
}

/// Per-endpoint circuit and token-bucket state, one item per endpoint, updated only by
/// compare-and-set so concurrent workers never double-spend a token or lose a transition.
#[async_trait]
pub trait EndpointStateStore: Send + Sync {
    async fn load(&self, id: &EndpointId) -> Result<Versioned<EndpointState>, PortError>;
    /// Stores `state` as version `expected_version + 1` if the stored version is still
    /// `expected_version`; `Ok(false)` when another writer got there first.
    async fn save(
        &self,
        id: &EndpointId,
        state: &EndpointState,
        expected_version: u64,
    ) -> Result<bool, PortError>;
}

/// Which failures to list or replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureFilter {
    pub endpoint_id: Option<EndpointId>,
    pub failed_after: Option<DateTime<Utc>>,
    pub failed_before: Option<DateTime<Utc>>,
}

impl FailureFilter {
    pub fn matches(&self, record: &FailureRecord) -> bool {
        self.endpoint_id
            .as_ref()
            .is_none_or(|id| *id == record.endpoint_id)
            && self.failed_after.is_none_or(|t| record.failed_at >= t)
            && self.failed_before.is_none_or(|t| record.failed_at < t)
    }
}

#[async_trait]
pub trait FailureStore: Send + Sync {
    /// Stores the record unless one with its id exists; whether it was new.
    async fn record(&self, failure: &FailureRecord) -> Result<bool, PortError>;
    async fn get(&self, id: &str) -> Result<Option<FailureRecord>, PortError>;
    /// Newest first.
    async fn list(
        &self,
        filter: &FailureFilter,
        page: PageRequest,
    ) -> Result<Page<FailureRecord>, PortError>;
    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> Result<(), PortError>;
}

/// The delivery log (`domain::delivery_log`): a batch's attempts written together, searched
/// newest first, and the five-minute tallies behind the overview.
#[async_trait]
pub trait DeliveryLog: Send + Sync + std::fmt::Debug {
    /// Keeps the batch's entries and adds them to their tallies. Callers treat it as best
    /// effort: a lost append loses a view of deliveries, never a delivery.
    async fn append(&self, batch: &LogBatch) -> Result<(), PortError>;
    /// Matching entries, newest first. A page may hold fewer than `limit` entries and still
    /// have a cursor: each call reads a bounded number of hours.
    async fn search(
        &self,
        query: &LogQuery,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<LogEntry>, PortError>;
    /// The tallies of the buckets given (`Tally::bucket`), one per bucket in their order.
    async fn tallies(&self, buckets: &[i64]) -> Result<Vec<Tally>, PortError>;
}

/// One signed POST, ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// What the sender saw, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub result: AttemptResult,
    pub latency: Duration,
}

#[async_trait]
pub trait Sender: Send + Sync {
    /// Never fails as a call: every problem is an `AttemptResult`.
    async fn send(&self, request: OutgoingRequest) -> SendReport;
}

/// Where authhooks' own operational events go (domain::operational): through the
/// pipeline, to the endpoints subscribed to them, as ingest sends a producer's events.
#[async_trait]
pub trait Notices: Send + Sync {
    async fn notify(&self, events: Vec<crate::domain::event::Event>) -> Result<(), PortError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Randomness for jitter, ids and secrets, injected so tests are repeatable.
pub trait Entropy: Send + Sync {
    /// Uniform in [0, 1).
    fn unit(&self) -> f64;
    fn u128(&self) -> u128;
    fn bytes32(&self) -> [u8; 32];
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The operating system's CSPRNG (secrets are generated from it).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn unit(&self) -> f64 {
        rand::random::<f64>()
    }

    fn u128(&self) -> u128 {
        rand::random::<u128>()
    }

    fn bytes32(&self) -> [u8; 32] {
        rand::random::<[u8; 32]>()
    }
}
