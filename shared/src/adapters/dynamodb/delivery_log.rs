//! The delivery log table: one item per worker batch (`pk` the hour, `sk` the batch key,
//! `entries` its entries compressed, `log_item`), and one item per five-minute tally (`pk`
//! the bucket, `sk` `-`) that every batch adds to with `ADD`, so writers never conflict.
//! Both expire after the retention (TTL on `expires_at`). A batch of ten deliveries is two
//! writes of under 1 KB each, whatever its endpoints.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::error::{corrupt, sdk_error};
use super::item::{epoch_secs_up, n, s, string_attr, Item};
use super::log_item;
use super::state_batch::{get_chunk, BATCH_KEYS};
use super::tables::TTL_ATTRIBUTE;
use crate::adapters::log_search::{search, LogHours, StoredBatch};
use crate::domain::delivery_log::{Hour, LogBatch, LogEntry, LogQuery, Tally, RETENTION};
use crate::ports::{DeliveryLog, Page, PageRequest, PortError};

/// The sort key of a tally item: it has one item per bucket.
const TALLY_SORT: &str = "-";
/// The tally's latency buckets are stored as `l0`, `l1`, ….
const COUNTS: [&str; 4] = ["delivered", "retrying", "failed", "latency_sum_ms"];

#[derive(Debug, Clone)]
pub struct DynamoDeliveryLog {
    client: Client,
    table: String,
}

impl DynamoDeliveryLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn add_tally(&self, bucket: i64, tally: &Tally, expires: i64) -> Result<(), PortError> {
        let mut values: Vec<(String, u64)> = COUNTS
            .iter()
            .map(|name| name.to_string())
            .zip([
                tally.delivered,
                tally.retrying,
                tally.failed,
                tally.latency_sum_ms,
            ])
            .collect();
        values.extend(
            tally
                .latency
                .iter()
                .enumerate()
                .map(|(i, count)| (format!("l{i}"), *count)),
        );
        let adds: Vec<String> = values
            .iter()
            .map(|(name, _)| format!("{name} :{name}"))
            .collect();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(Tally::key(bucket)))
            .key("sk", s(TALLY_SORT))
            .update_expression(format!("ADD {} SET #ttl = :ttl", adds.join(", ")))
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":ttl", n(expires));
        for (name, value) in values {
            request = request.expression_attribute_values(format!(":{name}"), n(value));
        }
        request
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(())
    }
}

fn count(item: &Item, name: &str) -> Result<u64, PortError> {
    match item.get(name) {
        None => Ok(0),
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| corrupt("tally item", format!("{name} is not a count: {value}"))),
        Some(_) => Err(corrupt("tally item", format!("{name} is not a number"))),
    }
}

fn tally_of(item: &Item) -> Result<Tally, PortError> {
    let mut tally = Tally {
        delivered: count(item, "delivered")?,
        retrying: count(item, "retrying")?,
        failed: count(item, "failed")?,
        latency_sum_ms: count(item, "latency_sum_ms")?,
        ..Tally::default()
    };
    for (i, slot) in tally.latency.iter_mut().enumerate() {
        *slot = count(item, &format!("l{i}"))?;
    }
    Ok(tally)
}

#[async_trait]
impl DeliveryLog for DynamoDeliveryLog {
    async fn append(&self, batch: &LogBatch) -> Result<(), PortError> {
        let newest = batch.entries.iter().map(|e| e.at).max().unwrap_or_default();
        let expires = epoch_secs_up(newest + RETENTION);
        let entries = log_item::encode(&batch.entries, log_item::base_of(&batch.key)?)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(batch.hour.key()))
            .item("sk", s(&batch.key))
            .item("entries", AttributeValue::B(Blob::new(entries)))
            .item(TTL_ATTRIBUTE, n(expires))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        for (bucket, tally) in batch.tallies() {
            self.add_tally(bucket, &tally, expires).await?;
        }
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
        let mut found = std::collections::HashMap::new();
        for chunk in buckets.chunks(BATCH_KEYS) {
            let keys = chunk
                .iter()
                .map(|b| {
                    Item::from([
                        ("pk".to_owned(), s(Tally::key(*b))),
                        ("sk".to_owned(), s(TALLY_SORT)),
                    ])
                })
                .collect();
            for item in get_chunk(&self.client, &self.table, keys).await? {
                if let Some(pk) = string_attr(&item, "pk") {
                    found.insert(pk, tally_of(&item)?);
                }
            }
        }
        Ok(buckets
            .iter()
            .map(|b| found.remove(&Tally::key(*b)).unwrap_or_default())
            .collect())
    }
}

#[async_trait]
impl LogHours for DynamoDeliveryLog {
    async fn batches(
        &self,
        hour: Hour,
        low: &str,
        high: &str,
        after: Option<String>,
    ) -> Result<(Vec<StoredBatch>, Option<String>), PortError> {
        // DynamoDB refuses BETWEEN with reversed bounds.
        if low > high {
            return Ok((Vec::new(), None));
        }
        let pk = hour.key();
        let start =
            after.map(|sk| Item::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(sk))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        let mut batches = Vec::new();
        for item in out.items() {
            let key = string_attr(item, "sk").unwrap_or_default();
            let Some(AttributeValue::B(bytes)) = item.get("entries") else {
                return Err(corrupt("log batch", "no entries"));
            };
            let entries = log_item::decode(bytes.as_ref(), log_item::base_of(&key)?)?;
            batches.push((key, entries));
        }
        let more = out.last_evaluated_key().and_then(|k| string_attr(k, "sk"));
        Ok((batches, more))
    }
}
