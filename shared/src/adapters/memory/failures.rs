//! Failure records in memory, newest first, written only if absent.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::delivery::FailureRecord;
use crate::ports::{FailureFilter, FailureStore, Page, PageRequest, PortError};

#[derive(Debug, Default)]
pub struct MemoryFailureStore {
    records: Mutex<HashMap<String, FailureRecord>>,
}

impl MemoryFailureStore {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Newest first, ties broken by id, so pages are stable.
fn order_key(record: &FailureRecord) -> (std::cmp::Reverse<DateTime<Utc>>, String) {
    (std::cmp::Reverse(record.failed_at), record.id.clone())
}

#[async_trait]
impl FailureStore for MemoryFailureStore {
    async fn record(&self, failure: &FailureRecord) -> Result<bool, PortError> {
        let mut records = lock(&self.records);
        if records.contains_key(&failure.id) {
            return Ok(false);
        }
        records.insert(failure.id.clone(), failure.clone());
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<FailureRecord>, PortError> {
        Ok(lock(&self.records).get(id).cloned())
    }

    async fn list(
        &self,
        filter: &FailureFilter,
        page: PageRequest,
    ) -> Result<Page<FailureRecord>, PortError> {
        let records = lock(&self.records);
        let mut matching: Vec<&FailureRecord> =
            records.values().filter(|r| filter.matches(r)).collect();
        matching.sort_by_key(|r| order_key(r));
        let start = match &page.cursor {
            Some(cursor) => matching
                .iter()
                .position(|r| r.id == *cursor)
                .map(|i| i + 1)
                .ok_or_else(|| PortError::InvalidCursor("no such failure record".into()))?,
            None => 0,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let items: Vec<FailureRecord> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| (*r).clone())
            .collect();
        let next_cursor = (start + limit < matching.len())
            .then(|| items.last().map(|r| r.id.clone()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> Result<(), PortError> {
        if let Some(record) = lock(&self.records).get_mut(id) {
            record.replayed_at = Some(at);
        }
        Ok(())
    }
}
