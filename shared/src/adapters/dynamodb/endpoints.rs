//! Endpoints in their own table, keyed by `id`, listed by Scan.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::Client;

use super::error::sdk_error;
use super::item::{from_item, key, string_attr, to_item};
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::ports::{EndpointStore, Page, PageRequest, PortError};

#[derive(Debug, Clone)]
pub struct DynamoEndpointStore {
    pub client: Client,
    pub table: String,
}

impl DynamoEndpointStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl EndpointStore for DynamoEndpointStore {
    async fn put(&self, endpoint: &Endpoint) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(endpoint)?))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem endpoint", e))?;
        Ok(())
    }

    async fn get(&self, id: &EndpointId) -> Result<Option<Endpoint>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("id", id.as_str())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem endpoint", e))?;
        out.item.map(|item| from_item("endpoint", item)).transpose()
    }

    /// In the table's own (hash) order, not by id: that is what a Scan gives. The cursor is
    /// the id of the last endpoint returned.
    async fn list(&self, page: PageRequest) -> Result<Page<Endpoint>, PortError> {
        let start = match &page.cursor {
            Some(cursor) => {
                let after = EndpointId::parse(cursor)
                    .map_err(|e| PortError::InvalidCursor(e.to_string()))?;
                Some(key("id", after.as_str()))
            }
            None => None,
        };
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        // One more than asked tells whether another page exists, so the last page says so
        // instead of leaving the caller an empty one to fetch.
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("Scan endpoints", e))?;
        let mut items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<Endpoint>("endpoint", item))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| e.id.to_string())
        } else {
            // A Scan also stops at 1 MB, short of the limit.
            out.last_evaluated_key
                .and_then(|last| string_attr(&last, "id"))
        };
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, id: &EndpointId) -> Result<bool, PortError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key("id", id.as_str())))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem endpoint", e))?;
        Ok(out.attributes.is_some_and(|old| !old.is_empty()))
    }
}
