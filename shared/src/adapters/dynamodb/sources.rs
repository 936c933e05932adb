//! Sources and their failed requests in one table keyed by `pk` (the source id) and `sk`:
//! `source` for the source itself, `failure#<failure id>` for each failed request, which
//! expires after seven days (TTL on `expires_at`). Failure ids are time-ordered, so a
//! Query of one source backwards is newest first, and the expired are cut by key. Only
//! source items carry `kind`, so the `by_kind` index holds the sources alone and a list
//! never reads past failed requests.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};

use super::error::sdk_error;
use super::item::{epoch_secs_up, from_item, n, s, string_attr, to_item, Item};
use super::tables::{SOURCES_BY_KIND, SOURCE_KIND, TTL_ATTRIBUTE};
use crate::domain::ids::{InboundFailureId, SourceId};
use crate::domain::source::{Source, SourceFailure};
use crate::ports::{Page, PageRequest, PortError, SourceStore, SOURCE_FAILURE_TTL_DAYS};

const SOURCE_SK: &str = "source";
const FAILURE_SK: &str = "failure#";

#[derive(Debug, Clone)]
pub struct DynamoSourceStore {
    pub client: Client,
    pub table: String,
}

impl DynamoSourceStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn item_key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

#[async_trait]
impl SourceStore for DynamoSourceStore {
    async fn put(&self, source: &Source) -> Result<(), PortError> {
        let mut item = to_item(source)?;
        item.extend(item_key(source.id.as_str(), SOURCE_SK));
        item.insert("kind".to_owned(), s(SOURCE_KIND));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem source", e))?;
        Ok(())
    }

    async fn get(&self, id: &SourceId) -> Result<Option<Source>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(id.as_str(), SOURCE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem source", e))?;
        out.item.map(|item| from_item("source", item)).transpose()
    }

    /// In id order, from the `by_kind` index (eventually consistent, as every index read
    /// is: a source created a moment ago may be missing from a list made at once). The
    /// cursor is the last source's id.
    async fn list(&self, page: PageRequest) -> Result<Page<Source>, PortError> {
        let start = match &page.cursor {
            Some(cursor) => {
                let after =
                    SourceId::parse(cursor).map_err(|e| PortError::InvalidCursor(e.to_string()))?;
                let mut key = item_key(after.as_str(), SOURCE_SK);
                key.insert("kind".to_owned(), s(SOURCE_KIND));
                Some(key)
            }
            None => None,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SOURCES_BY_KIND)
            .key_condition_expression("kind = :kind")
            .expression_attribute_values(":kind", s(SOURCE_KIND))
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("Query sources", e))?;
        let mut items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<Source>("source", item))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|s| s.id.to_string())
        } else {
            out.last_evaluated_key
                .and_then(|last| string_attr(&last, "pk"))
        };
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, id: &SourceId) -> Result<bool, PortError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(id.as_str(), SOURCE_SK)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem source", e))?;
        Ok(out.attributes.is_some_and(|old| !old.is_empty()))
    }

    async fn record_failure(&self, failure: &SourceFailure) -> Result<(), PortError> {
        let mut item = to_item(failure)?;
        let sk = format!("{FAILURE_SK}{}", failure.id);
        item.extend(item_key(failure.source_id.as_str(), &sk));
        let expires = failure.at + Duration::days(SOURCE_FAILURE_TTL_DAYS);
        item.insert(TTL_ATTRIBUTE.to_owned(), n(epoch_secs_up(expires)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem source failure", e))?;
        Ok(())
    }

    /// The cursor is the id of the last failure listed.
    async fn failures(
        &self,
        id: &SourceId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<SourceFailure>, PortError> {
        let start = match &page.cursor {
            Some(cursor) => {
                let after = InboundFailureId::parse(cursor)
                    .map_err(|e| PortError::InvalidCursor(e.to_string()))?;
                Some(item_key(id.as_str(), &format!("{FAILURE_SK}{after}")))
            }
            None => None,
        };
        // TTL deletes late; the key leaves out what it has not yet deleted.
        let oldest = InboundFailureId::generate(now - Duration::days(SOURCE_FAILURE_TTL_DAYS), 0);
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :oldest AND :newest")
            .expression_attribute_values(":pk", s(id.as_str()))
            .expression_attribute_values(":oldest", s(format!("{FAILURE_SK}{oldest}")))
            // `~` sorts after every character of an id.
            .expression_attribute_values(":newest", AttributeValue::S(format!("{FAILURE_SK}~")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("Query source failures", e))?;
        let mut items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<SourceFailure>("source failure", item))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|f| f.id.to_string())
        } else {
            out.last_evaluated_key
                .and_then(|last| string_attr(&last, "sk"))
                .and_then(|sk| sk.strip_prefix(FAILURE_SK).map(str::to_owned))
        };
        Ok(Page { items, next_cursor })
    }
}
