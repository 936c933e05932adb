//! Batched reads of idempotency records (BatchGetItem): how ingest asks, for every delivery
//! a submission owes, whether it was seen before — one request per 100 keys, eventually
//! consistent (half a read unit each), which is all a "seen before?" question needs.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::error::{build_error, sdk_error};
use super::item::{from_item, key as string_key, string_attr, Item};
use super::state::{DynamoStateStore, Record};
use crate::ports::{ClaimOutcome, IdempotencyKey, PortError};

/// DynamoDB's limit on keys per BatchGetItem.
pub(super) const BATCH_KEYS: usize = 100;
/// Further calls for keys a batch left unprocessed (throttling), with a doubling wait.
const RETRY_ROUNDS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(25);

impl DynamoStateStore {
    pub(super) async fn batch_peek(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        // BatchGetItem refuses a key named twice in one call.
        let mut unique: Vec<&str> = Vec::with_capacity(keys.len());
        let mut named = HashSet::new();
        for key in keys {
            if named.insert(key.as_str()) {
                unique.push(key.as_str());
            }
        }
        let mut found: HashMap<String, ClaimOutcome> = HashMap::new();
        for chunk in unique.chunks(BATCH_KEYS) {
            let keys = chunk.iter().map(|pk| string_key("pk", *pk)).collect();
            for item in get_chunk(&self.client, &self.table, keys).await? {
                let record: Record = from_item("idempotency record", item)?;
                // Expired but not yet deleted by TTL counts as absent.
                if !record.expired(now) {
                    let pk = record.pk.clone();
                    found.insert(pk, record.outcome()?);
                }
            }
        }
        Ok(keys
            .iter()
            .map(|key| found.get(key.as_str()).cloned())
            .collect())
    }
}

/// The items under at most 100 keys of `table` (eventually consistent), asking again for
/// what comes back unprocessed until nothing does.
pub(super) async fn get_chunk(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<Vec<Item>, PortError> {
    let asked = keys.len();
    let mut pending = keys;
    let mut items = Vec::with_capacity(asked);
    let mut backoff = FIRST_BACKOFF;
    for round in 0..=RETRY_ROUNDS {
        if round > 0 {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(std::mem::take(&mut pending)))
            .consistent_read(false)
            .build()
            .map_err(build_error)?;
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|e| sdk_error("BatchGetItem", e))?;
        if let Some(got) = out.responses().and_then(|r| r.get(table)) {
            items.extend(got.iter().cloned());
        }
        pending = out
            .unprocessed_keys()
            .and_then(|u| u.get(table))
            .map(|k| k.keys().to_vec())
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(items);
        }
    }
    let example = pending.first().and_then(|k| string_attr(k, "pk"));
    Err(PortError::Unavailable(format!(
        "BatchGetItem: {} of {asked} keys still unprocessed after {RETRY_ROUNDS} retries (e.g. {})",
        pending.len(),
        example.unwrap_or_default()
    )))
}
