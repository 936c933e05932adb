//! Idempotency records in the state table, with the conditions of the in-memory adapter
//! (`adapters::memory::state`) written as DynamoDB condition expressions, so each decision
//! is one conditional write.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{corrupt, is_condition_failure, sdk_error};
use super::item::{
    epoch_millis_up, epoch_secs_up, exact_millis, exact_secs, from_epoch_millis, from_item,
    key as string_key, n, s, to_item, to_value, Item,
};
use crate::domain::delivery::AttemptRecord;
use crate::ports::{Claim, ClaimOutcome, IdempotencyKey, IdempotencyStore, PortError};

/// The state table: idempotency records here, per-endpoint state in `endpoint_state`.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    pub client: Client,
    pub table: String,
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    InProgress,
    Completed,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) pk: String,
    token: u64,
    status: Status,
    /// Epoch milliseconds; only while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_until: Option<i64>,
    /// Epoch seconds: the table's TTL attribute.
    pub(super) expires_at: i64,
    /// Only once completed: the attempt history as a JSON string, the form the worker has
    /// always written, so records written before the history was typed still load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// The `detail` attribute of a completed record.
fn encode_history(history: &[AttemptRecord]) -> Result<String, PortError> {
    serde_json::to_string(history)
        .map_err(|e| PortError::Rejected(format!("cannot encode attempt history: {e}")))
}

/// The attempt history of a completed record, from its `detail` attribute.
fn decode_history(pk: &str, detail: &str) -> Result<Vec<AttemptRecord>, PortError> {
    serde_json::from_str(detail)
        .map_err(|e| corrupt("idempotency record", format!("{pk}: attempt history: {e}")))
}

/// A claim wins over no record, an expired one (TTL deletes lazily, so expiry is checked
/// here), a lapsed lease, or an unfinished claim under a lower token.
const CLAIM_CONDITION: &str = "attribute_not_exists(#pk) OR #expires_at <= :now_secs \
     OR (#status = :in_progress AND (#lease_until <= :now_millis OR #token < :token))";

/// Only the holder of the current, unfinished claim may complete or release it.
const HOLDER_CONDITION: &str = "#status = :in_progress AND #token = :token";

impl DynamoStateStore {
    /// What the record that beat a claim says, read from the failed write itself.
    fn outcome_of(old: Option<Item>) -> Result<ClaimOutcome, PortError> {
        let old = old.ok_or_else(|| {
            PortError::Unavailable("claim refused without the record that refused it".into())
        })?;
        Self::outcome(from_item("idempotency record", old)?)
    }

    pub(super) fn outcome(record: Record) -> Result<ClaimOutcome, PortError> {
        match (record.status, record.detail, record.lease_until) {
            (Status::Completed, Some(detail), _) => Ok(ClaimOutcome::Completed {
                history: decode_history(&record.pk, &detail)?,
            }),
            (Status::InProgress, _, Some(millis)) => Ok(ClaimOutcome::InProgress {
                lease_until: from_epoch_millis(millis)?,
            }),
            _ => Err(corrupt(
                "idempotency record",
                format!("{} lacks its detail or lease", record.pk),
            )),
        }
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStateStore {
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError> {
        let record = Record {
            pk: key.as_str().to_owned(),
            token: claim.token,
            status: Status::InProgress,
            lease_until: Some(epoch_millis_up(claim.lease_until)),
            expires_at: epoch_secs_up(claim.expires_at),
            detail: None,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record)?))
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":now_secs", exact_secs(claim.now))
            .expression_attribute_values(":now_millis", exact_millis(claim.now))
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(claim.token))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                    Self::outcome_of(refused.item.clone())
                }
                _ => Err(sdk_error("PutItem claim", err)),
            },
        }
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: u64,
        history: &[AttemptRecord],
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let detail = encode_history(history)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(string_key("pk", key.as_str())))
            .update_expression(
                "SET #status = :completed, #detail = :detail, #expires_at = :expires_at \
                 REMOVE #lease_until",
            )
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":completed", to_value(&Status::Completed)?)
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":expires_at", n(epoch_secs_up(expires_at)))
            .expression_attribute_values(":token", n(token))
            .send()
            .await;
        match result {
            // Someone with a newer claim owns the key now; their outcome stands.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error("UpdateItem complete", err)),
            Ok(_) => Ok(()),
        }
    }

    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(string_key("pk", key.as_str())))
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(token))
            .send()
            .await;
        match result {
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error("DeleteItem release", err)),
            Ok(_) => Ok(()),
        }
    }

    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        self.batch_peek(keys, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_encode_with_the_documented_attributes() {
        let record = Record {
            pk: "dlv#0f3a".into(),
            token: 7,
            status: Status::InProgress,
            lease_until: Some(1_800_000_000_123),
            expires_at: 1_800_172_800,
            detail: None,
        };
        let item = to_item(&record).unwrap();
        assert_eq!(item.get("pk"), Some(&s("dlv#0f3a")));
        assert_eq!(item.get("status"), Some(&s("in_progress")));
        assert_eq!(item.get("lease_until"), Some(&n(1_800_000_000_123_i64)));
        assert_eq!(item.get("expires_at"), Some(&n(1_800_172_800)));
        assert!(!item.contains_key("detail"));
    }

    /// A completed record exactly as the releases before the typed history wrote it.
    fn legacy_completed_item(detail: &str) -> Item {
        Item::from([
            ("pk".to_owned(), s("dlv#0f3a")),
            ("token".to_owned(), n(7)),
            ("status".to_owned(), s("completed")),
            ("expires_at".to_owned(), n(1_800_172_800)),
            ("detail".to_owned(), s(detail)),
        ])
    }

    const LEGACY_DETAIL: &str = r#"[{"attempt":1,"status":503,"error":null,"latency_ms":12,"at":"2026-11-22T10:00:00Z","snippet":"busy"},{"attempt":2,"status":null,"error":"timed out","latency_ms":15000,"at":"2026-11-22T10:00:05.250Z"}]"#;

    fn legacy_history() -> Vec<AttemptRecord> {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        vec![
            AttemptRecord {
                attempt: 1,
                status: Some(503),
                error: None,
                latency_ms: 12,
                at: at("2026-11-22T10:00:00Z"),
                snippet: Some("busy".into()),
            },
            AttemptRecord {
                attempt: 2,
                status: None,
                error: Some("timed out".into()),
                latency_ms: 15_000,
                at: at("2026-11-22T10:00:05.250Z"),
                snippet: None,
            },
        ]
    }

    #[test]
    fn completed_records_written_before_the_typed_history_load() {
        let record: Record =
            from_item("idempotency record", legacy_completed_item(LEGACY_DETAIL)).unwrap();
        assert_eq!(
            DynamoStateStore::outcome(record).unwrap(),
            ClaimOutcome::Completed {
                history: legacy_history()
            }
        );
    }

    #[test]
    fn the_history_is_stored_in_the_same_json_string() {
        assert_eq!(encode_history(&legacy_history()).unwrap(), LEGACY_DETAIL);
    }

    #[test]
    fn an_undecodable_history_is_corrupt() {
        let record: Record =
            from_item("idempotency record", legacy_completed_item("3 deliveries")).unwrap();
        let err = DynamoStateStore::outcome(record).unwrap_err();
        assert!(
            matches!(&err, PortError::Corrupt(m) if m.contains("dlv#0f3a")),
            "{err}"
        );
    }
}
