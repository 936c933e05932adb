//! Per-endpoint circuit and token-bucket state in the state table (`ep#<endpoint id>`),
//! written only by compare-and-set on its `version`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::{is_condition_failure, sdk_error};
use super::item::{from_item, key, n, to_item};
use super::state::DynamoStateStore;
use crate::domain::admission::EndpointState;
use crate::domain::ids::EndpointId;
use crate::ports::{EndpointStateStore, PortError, Versioned};

#[derive(Debug, Serialize, Deserialize)]
struct StateItem<S> {
    pk: String,
    version: u64,
    state: S,
}

fn state_key(id: &EndpointId) -> String {
    format!("ep#{id}")
}

#[async_trait]
impl EndpointStateStore for DynamoStateStore {
    async fn load(&self, id: &EndpointId) -> Result<Versioned<EndpointState>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("pk", state_key(id))))
            // A compare-and-set needs the latest version, not an eventually consistent one.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem endpoint state", e))?;
        match out.item {
            Some(item) => {
                let stored: StateItem<EndpointState> = from_item("endpoint state", item)?;
                Ok(Versioned {
                    value: stored.state,
                    version: stored.version,
                })
            }
            None => Ok(Versioned {
                value: EndpointState::default(),
                version: 0,
            }),
        }
    }

    async fn save(
        &self,
        id: &EndpointId,
        state: &EndpointState,
        expected_version: u64,
    ) -> Result<bool, PortError> {
        let version = expected_version
            .checked_add(1)
            .ok_or_else(|| PortError::Rejected("endpoint state version overflow".into()))?;
        let item = to_item(&StateItem {
            pk: state_key(id),
            version,
            state,
        })?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = if expected_version == 0 {
            request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", "pk")
        } else {
            request
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(expected_version))
        };
        match request.send().await {
            Ok(_) => Ok(true),
            // Another writer got there first; the caller reloads and decides again.
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("PutItem endpoint state", err)),
        }
    }
}
