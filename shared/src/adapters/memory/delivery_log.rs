//! The delivery log in memory (local mode, tests): batches by hour and key, tallies by
//! bucket, both kept for the retention and, since a process has no TTL sweeper and only so
//! much memory, the entries also capped at [`MAX_ENTRIES`], oldest dropped first.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::adapters::log_search::{search, LogHours, StoredBatch};
use crate::domain::delivery_log::{Hour, LogBatch, LogEntry, LogQuery, Tally, RETENTION};
use crate::ports::{DeliveryLog, Page, PageRequest, PortError};

/// The most entries kept: about 30 MB at a few hundred bytes each.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
struct Stored {
    batches: BTreeMap<(Hour, String), Vec<LogEntry>>,
    entries: usize,
    tallies: BTreeMap<i64, Tally>,
}

#[derive(Debug, Default)]
pub struct MemoryDeliveryLog {
    stored: Mutex<Stored>,
}

impl MemoryDeliveryLog {
    pub fn new() -> Self {
        Self::default()
    }

    fn stored(&self) -> std::sync::MutexGuard<'_, Stored> {
        // A panic elsewhere while holding the lock leaves whole batches: still readable.
        self.stored.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Stored {
    fn forget_before(&mut self, cutoff: DateTime<Utc>) {
        let hour = Hour::of(cutoff);
        while let Some(entry) = self.batches.first_entry() {
            if entry.key().0 >= hour && self.entries <= MAX_ENTRIES {
                break;
            }
            self.entries -= entry.remove().len();
        }
        let bucket = Tally::bucket(cutoff);
        self.tallies = self.tallies.split_off(&bucket);
    }
}

#[async_trait]
impl DeliveryLog for MemoryDeliveryLog {
    async fn append(&self, batch: &LogBatch) -> Result<(), PortError> {
        let mut stored = self.stored();
        stored.entries += batch.entries.len();
        stored
            .batches
            .entry((batch.hour, batch.key.clone()))
            .or_default()
            .extend(batch.entries.iter().cloned());
        for (bucket, tally) in batch.tallies() {
            stored.tallies.entry(bucket).or_default().merge(&tally);
        }
        let newest = batch.entries.iter().map(|e| e.at).max().unwrap_or_default();
        stored.forget_before(newest - RETENTION);
        Ok(())
    }

    async fn search(
        &self,
        query: &LogQuery,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<LogEntry>, PortError> {
        search(self, query, page, now).await
    }

    async fn tallies(&self, buckets: &[i64]) -> Result<Vec<Tally>, PortError> {
        let stored = self.stored();
        Ok(buckets
            .iter()
            .map(|b| stored.tallies.get(b).cloned().unwrap_or_default())
            .collect())
    }
}

#[async_trait]
impl LogHours for MemoryDeliveryLog {
    /// All of the hour at once: memory has no page size to respect.
    async fn batches(
        &self,
        hour: Hour,
        low: &str,
        high: &str,
        _after: Option<String>,
    ) -> Result<(Vec<StoredBatch>, Option<String>), PortError> {
        // `range` panics on reversed bounds; a search from after its end finds nothing.
        if low > high {
            return Ok((Vec::new(), None));
        }
        let stored = self.stored();
        let batches = stored
            .batches
            .range((hour, low.to_owned())..=(hour, high.to_owned()))
            .rev()
            .map(|((_, key), entries)| (key.clone(), entries.clone()))
            .collect();
        Ok((batches, None))
    }
}
