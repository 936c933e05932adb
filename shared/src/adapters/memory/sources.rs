//! Sources in a map listed in id order, and each source's failed requests newest first,
//! expiring after seven days as the DynamoDB items' TTL makes them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::lock;
use crate::domain::ids::{InboundFailureId, SourceId};
use crate::domain::source::{Source, SourceFailure};
use crate::ports::{Page, PageRequest, PortError, SourceStore, SOURCE_FAILURE_TTL_DAYS};

/// Failed requests kept per source in memory: local mode's bound, where the table has TTL.
const MAX_FAILURES_KEPT: usize = 1000;

#[derive(Debug, Default)]
pub struct MemorySourceStore {
    sources: Mutex<BTreeMap<SourceId, Source>>,
    /// By id: oldest first.
    failures: Mutex<HashMap<SourceId, BTreeMap<InboundFailureId, SourceFailure>>>,
}

impl MemorySourceStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SourceStore for MemorySourceStore {
    async fn put(&self, source: &Source) -> Result<(), PortError> {
        lock(&self.sources).insert(source.id.clone(), source.clone());
        Ok(())
    }

    async fn get(&self, id: &SourceId) -> Result<Option<Source>, PortError> {
        Ok(lock(&self.sources).get(id).cloned())
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Source>, PortError> {
        let sources = lock(&self.sources);
        let start = match &page.cursor {
            Some(cursor) => Bound::Excluded(
                SourceId::parse(cursor).map_err(|e| PortError::InvalidCursor(e.to_string()))?,
            ),
            None => Bound::Unbounded,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let mut items: Vec<Source> = sources
            .range((start, Bound::Unbounded))
            .take(limit + 1)
            .map(|(_, s)| s.clone())
            .collect();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|s| s.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, id: &SourceId) -> Result<bool, PortError> {
        Ok(lock(&self.sources).remove(id).is_some())
    }

    async fn record_failure(&self, failure: &SourceFailure) -> Result<(), PortError> {
        let mut failures = lock(&self.failures);
        let kept = failures.entry(failure.source_id.clone()).or_default();
        kept.insert(failure.id.clone(), failure.clone());
        if kept.len() > MAX_FAILURES_KEPT {
            kept.pop_first();
        }
        Ok(())
    }

    /// The cursor is the id of the last failure listed; newer ones come before it, so a
    /// failure recorded meanwhile never shifts a page.
    async fn failures(
        &self,
        id: &SourceId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<SourceFailure>, PortError> {
        let before = match &page.cursor {
            Some(cursor) => Some(
                InboundFailureId::parse(cursor)
                    .map_err(|e| PortError::InvalidCursor(e.to_string()))?,
            ),
            None => None,
        };
        let oldest_kept = now - Duration::days(SOURCE_FAILURE_TTL_DAYS);
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let failures = lock(&self.failures);
        let mut items: Vec<SourceFailure> = failures
            .get(id)
            .map(|all| {
                let end = before.map_or(Bound::Unbounded, Bound::Excluded);
                all.range((Bound::Unbounded, end))
                    .rev()
                    .map(|(_, f)| f)
                    .filter(|f| f.at > oldest_kept)
                    .take(limit + 1)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|f| f.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
