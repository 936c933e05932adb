//! The state table in memory: idempotency records and per-endpoint state, with the same
//! conditions the DynamoDB adapter puts on its writes, and its TTL: expired records are
//! forgotten ([`MemoryStateStore::forget_expired`]), so local mode's memory returns after
//! a drain instead of growing by every delivery it ever made.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::admission::EndpointState;
use crate::domain::delivery::{AttemptRecord, Progress};
use crate::domain::ids::EndpointId;
use crate::ports::{
    Claim, ClaimOutcome, EndpointStateStore, IdempotencyKey, IdempotencyStore, PortError, Versioned,
};

#[derive(Debug, Clone)]
enum Status {
    /// `progress` is what a paused holder left (`pause`); it passes to each later claim on
    /// the live record, as the DynamoDB adapter's attribute does.
    InProgress {
        lease_until: DateTime<Utc>,
        progress: Option<Progress>,
    },
    Completed {
        history: Vec<AttemptRecord>,
    },
}

#[derive(Debug, Clone)]
struct Record {
    token: u64,
    status: Status,
    expires_at: DateTime<Utc>,
}

/// The records, and when each is due to be forgotten, soonest first. An entry whose record
/// was rewritten with a later expiry since (a new claim) is stale: it is dropped when its
/// time comes, and the record stays.
#[derive(Debug, Default)]
struct Records {
    live: HashMap<IdempotencyKey, Record>,
    expiries: BinaryHeap<Reverse<(DateTime<Utc>, IdempotencyKey)>>,
}

impl Records {
    fn insert(&mut self, key: IdempotencyKey, record: Record) {
        let known = self.live.get(&key).map(|r| r.expires_at);
        if known != Some(record.expires_at) {
            self.expiries
                .push(Reverse((record.expires_at, key.clone())));
        }
        self.live.insert(key, record);
    }

    /// Removes every record expired at `now` (DynamoDB's TTL deletion, done at once);
    /// how many went.
    fn forget_expired(&mut self, now: DateTime<Utc>) -> usize {
        let mut forgotten = 0;
        while let Some(Reverse((at, _))) = self.expiries.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, key))) = self.expiries.pop() else {
                break;
            };
            if self.live.get(&key).is_some_and(|r| r.expires_at <= now) {
                self.live.remove(&key);
                forgotten += 1;
            }
        }
        forgotten
    }
}

#[derive(Debug, Default)]
pub struct MemoryStateStore {
    records: Mutex<Records>,
    endpoints: Mutex<HashMap<EndpointId, Versioned<EndpointState>>>,
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every idempotency record expired at `now`, as DynamoDB's TTL would; how many
    /// went. Each claim does it too; local mode also calls it now and then, so the memory
    /// returns once the deliveries stop.
    pub fn forget_expired(&self, now: DateTime<Utc>) -> usize {
        lock(&self.records).forget_expired(now)
    }

    /// Idempotency records held, expired ones not yet forgotten included.
    pub fn records(&self) -> usize {
        lock(&self.records).live.len()
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStateStore {
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError> {
        let mut records = lock(&self.records);
        records.forget_expired(claim.now);
        let mut progress = None;
        // Expired records count as absent, progress and all, should one outlive its time.
        if let Some(existing) = records.live.get(key).filter(|r| r.expires_at > claim.now) {
            match &existing.status {
                Status::Completed { history } => {
                    return Ok(ClaimOutcome::Completed {
                        history: history.clone(),
                    })
                }
                Status::InProgress { lease_until, .. }
                    if *lease_until > claim.now && existing.token >= claim.token =>
                {
                    return Ok(ClaimOutcome::InProgress {
                        lease_until: *lease_until,
                    })
                }
                Status::InProgress { progress: kept, .. } => progress.clone_from(kept),
            }
        }
        records.insert(
            key.clone(),
            Record {
                token: claim.token,
                status: Status::InProgress {
                    lease_until: claim.lease_until,
                    progress: progress.clone(),
                },
                expires_at: claim.expires_at,
            },
        );
        Ok(ClaimOutcome::Claimed { progress })
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: u64,
        history: &[AttemptRecord],
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut records = lock(&self.records);
        match records.live.get(key) {
            Some(record)
                if record.token == token && matches!(record.status, Status::InProgress { .. }) =>
            {
                let completed = Record {
                    token,
                    status: Status::Completed {
                        history: history.to_vec(),
                    },
                    expires_at,
                };
                records.insert(key.clone(), completed);
                Ok(())
            }
            // Someone with a newer claim owns the key now; their outcome stands.
            _ => Ok(()),
        }
    }

    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        let mut records = lock(&self.records);
        let ours = records
            .live
            .get(key)
            .is_some_and(|r| r.token == token && matches!(r.status, Status::InProgress { .. }));
        if ours {
            records.live.remove(key);
        }
        Ok(())
    }

    async fn pause(
        &self,
        key: &IdempotencyKey,
        token: u64,
        progress: &Progress,
    ) -> Result<(), PortError> {
        let mut records = lock(&self.records);
        if let Some(record) = records.live.get_mut(key).filter(|r| r.token == token) {
            if let Status::InProgress {
                lease_until,
                progress: kept,
            } = &mut record.status
            {
                // Lapsed at once: the next receive of the message, whatever its token, claims.
                *lease_until = DateTime::UNIX_EPOCH;
                *kept = Some(progress.clone());
            }
        }
        Ok(())
    }

    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        let records = lock(&self.records);
        Ok(keys
            .iter()
            .map(|key| live(&records.live, key, now))
            .collect())
    }
}

/// The record under `key` unless it has expired.
fn live(
    records: &HashMap<IdempotencyKey, Record>,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Option<ClaimOutcome> {
    records
        .get(key)
        .filter(|r| r.expires_at > now)
        .map(|r| match &r.status {
            Status::Completed { history } => ClaimOutcome::Completed {
                history: history.clone(),
            },
            Status::InProgress { lease_until, .. } => ClaimOutcome::InProgress {
                lease_until: *lease_until,
            },
        })
}

#[async_trait]
impl EndpointStateStore for MemoryStateStore {
    async fn load(&self, id: &EndpointId) -> Result<Versioned<EndpointState>, PortError> {
        Ok(lock(&self.endpoints).get(id).cloned().unwrap_or(Versioned {
            value: EndpointState::default(),
            version: 0,
        }))
    }

    async fn save(
        &self,
        id: &EndpointId,
        state: &EndpointState,
        expected_version: u64,
    ) -> Result<bool, PortError> {
        let mut endpoints = lock(&self.endpoints);
        let current = endpoints.get(id).map_or(0, |v| v.version);
        if current != expected_version {
            return Ok(false);
        }
        endpoints.insert(
            id.clone(),
            Versioned {
                value: state.clone(),
                version: expected_version + 1,
            },
        );
        Ok(true)
    }
}

#[cfg(test)]
mod expiry_tests;
