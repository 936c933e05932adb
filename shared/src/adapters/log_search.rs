//! The delivery log's search, shared by its adapters: they differ only in how they read one
//! hour's batches, so paging, filtering and cursors behave the same over memory and
//! DynamoDB by construction.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::domain::delivery_log::{key_at, Hour, LogCursor, LogEntry, LogQuery, BATCH_SPAN};
use crate::ports::{Page, PageRequest, PortError};

/// Batches one call reads at most (about 5 MB at ten entries each): what bounds the work of
/// a search for something rare. Hours without batches cost one small query each, and there
/// are at most the retention's 169 of them.
pub const BATCHES_PER_CALL: usize = 2_000;

/// One stored batch: its key within its hour, and its entries.
pub type StoredBatch = (String, Vec<LogEntry>);

/// How an adapter reads one hour.
#[async_trait]
pub trait LogHours: Send + Sync {
    /// The batches of `hour` with keys from `low` to `high` (both inclusive), newest first,
    /// a page at a time: `after` is the key the previous page ended at, answered as the
    /// second item while more remain.
    async fn batches(
        &self,
        hour: Hour,
        low: &str,
        high: &str,
        after: Option<String>,
    ) -> Result<(Vec<StoredBatch>, Option<String>), PortError>;
}

/// Above every batch key (they are digits and `#`).
const TOP: &str = "~";
/// At or below every batch key; not empty, which DynamoDB refuses as a key value.
const BOTTOM: &str = "0";

pub async fn search(
    hours: &dyn LogHours,
    query: &LogQuery,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<LogEntry>, PortError> {
    let (newest, oldest) = query.hours(now);
    let low = query
        .since
        .map_or_else(|| BOTTOM.to_owned(), |s| key_at(s - BATCH_SPAN));
    let high = query.until.map_or_else(|| TOP.to_owned(), key_at);
    let (mut hour, mut resume) = match page.cursor.as_deref().map(decode).transpose()? {
        // A cursor can only move the search back in time, never past its bounds.
        Some(c) => (c.hour.min(newest), c.at.map(|at| (at, c.skip))),
        None => (newest, None),
    };
    let mut items = Vec::new();
    let mut batches_read = 0;
    while hour >= oldest {
        let top = match &resume {
            Some((at, _)) if at.as_str() < high.as_str() => at.clone(),
            _ => high.clone(),
        };
        let mut after = None;
        loop {
            let (batches, more) = hours.batches(hour, &low, &top, after).await?;
            for (key, entries) in batches {
                if batches_read == BATCHES_PER_CALL {
                    let cursor = LogCursor {
                        hour,
                        at: Some(key),
                        skip: 0,
                    };
                    return Ok(Page {
                        items,
                        next_cursor: Some(encode(&cursor)),
                    });
                }
                batches_read += 1;
                let skip = match &resume {
                    Some((at, skip)) if *at == key => *skip,
                    _ => 0,
                };
                for (n, entry) in entries.iter().enumerate().skip(skip) {
                    if !query.matches(entry) {
                        continue;
                    }
                    items.push(entry.clone());
                    if items.len() >= page.limit {
                        let cursor = LogCursor {
                            hour,
                            at: Some(key),
                            skip: n + 1,
                        };
                        return Ok(Page {
                            items,
                            next_cursor: Some(encode(&cursor)),
                        });
                    }
                }
            }
            match more {
                Some(key) => after = Some(key),
                None => break,
            }
        }
        resume = None;
        hour = hour.previous();
    }
    Ok(Page {
        items,
        next_cursor: None,
    })
}

fn encode(cursor: &LogCursor) -> String {
    // A cursor is plain data the search itself bounds; JSON of it cannot fail to encode.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode(raw: &str) -> Result<LogCursor, PortError> {
    let invalid = || PortError::InvalidCursor("not a deliveries cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let cursor: LogCursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let well_formed = cursor
        .at
        .as_deref()
        .is_none_or(|at| at.len() <= 40 && at.bytes().all(|b| b.is_ascii_hexdigit() || b == b'#'));
    if !well_formed {
        return Err(invalid());
    }
    Ok(cursor)
}
