//! Idempotency records in the state table, with the conditions of the in-memory adapter
//! (`adapters::memory::state`) written as DynamoDB condition expressions, so each decision
//! is one conditional write.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::error::{sdk_error, unless_condition_failed};
use super::item::{epoch_millis_up, epoch_secs_up, exact_millis, exact_secs, key, n, s, to_value};
use crate::domain::delivery::{AttemptRecord, Progress};
use crate::ports::{Claim, ClaimOutcome, IdempotencyKey, IdempotencyStore, PortError};

mod record;
#[cfg(test)]
mod tests;

pub(super) use record::Record;
use record::{encode_history, encode_progress, record_in, Status};

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

/// A claim wins over no record, an expired one (TTL deletes lazily, so expiry is checked
/// here), a lapsed lease (a paused record's included), or an unfinished claim under a lower
/// token.
const CLAIM_CONDITION: &str = "attribute_not_exists(#pk) OR #expires_at <= :now_secs \
     OR (#status = :in_progress AND (#lease_until <= :now_millis OR #token < :token))";

/// Only the holder of the current, unfinished claim may complete, pause or release it.
const HOLDER_CONDITION: &str = "#status = :in_progress AND #token = :token";

/// A paused record's lease: lapsed since ever, so the next claim wins whatever its token.
const LAPSED: i64 = 0;

#[async_trait]
impl IdempotencyStore for DynamoStateStore {
    /// An update rather than a put, so that the record's `progress` stays for the claimant
    /// and comes back with the record it replaced.
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .update_expression(
                "SET #token = :token, #status = :in_progress, #lease_until = :lease_until, \
                 #expires_at = :expires_at REMOVE #detail",
            )
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_values(":now_secs", exact_secs(claim.now))
            .expression_attribute_values(":now_millis", exact_millis(claim.now))
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(claim.token))
            .expression_attribute_values(":lease_until", n(epoch_millis_up(claim.lease_until)))
            .expression_attribute_values(":expires_at", n(epoch_secs_up(claim.expires_at)))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let Some(old) = record_in(out.attributes)? else {
                    return Ok(ClaimOutcome::Claimed { progress: None });
                };
                if old.expired(claim.now) {
                    if let Some(stale) = old.progress.as_deref() {
                        // The claim stands either way; failing it now would only make the
                        // caller wait out its own lease.
                        if let Err(e) = self.forget_progress(key, claim.token, stale).await {
                            tracing::warn!(key = key.as_str(), error = %e, "stale progress kept on a reclaimed record");
                        }
                    }
                }
                Ok(ClaimOutcome::Claimed {
                    progress: old.progress_for(claim.now)?,
                })
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    record_in(refused.item.clone())?
                        .ok_or_else(|| {
                            PortError::Unavailable(
                                "claim refused without the record that refused it".into(),
                            )
                        })?
                        .outcome()
                }
                _ => Err(sdk_error("UpdateItem claim", err)),
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
            .set_key(Some(key_of(key)))
            .update_expression(
                "SET #status = :completed, #detail = :detail, #expires_at = :expires_at \
                 REMOVE #lease_until, #progress",
            )
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#progress", "progress")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":completed", to_value(&Status::Completed)?)
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":expires_at", n(epoch_secs_up(expires_at)))
            .expression_attribute_values(":token", n(token))
            .send()
            .await;
        // Someone with a newer claim owns the key now; their outcome stands.
        unless_condition_failed("UpdateItem complete", result)
    }

    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(token))
            .send()
            .await;
        unless_condition_failed("DeleteItem release", result)
    }

    async fn pause(
        &self,
        key: &IdempotencyKey,
        token: u64,
        progress: &Progress,
    ) -> Result<(), PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .update_expression("SET #lease_until = :lapsed, #progress = :progress")
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#progress", "progress")
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(token))
            .expression_attribute_values(":lapsed", n(LAPSED))
            .expression_attribute_values(":progress", s(encode_progress(progress)?))
            .send()
            .await;
        // A newer claim owns the key now; the progress is theirs to keep.
        unless_condition_failed("UpdateItem pause", result)
    }

    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        self.batch_peek(keys, now).await
    }
}

impl DynamoStateStore {
    /// Drops the progress a claim found on an expired record, which an update (unlike the
    /// fresh record the memory adapter writes) would otherwise pass to the claims after it.
    /// Rare (a record outlived its TTL unfinished) and only if still exactly that progress
    /// under the caller's claim, so it never takes what a later holder paused with.
    async fn forget_progress(
        &self,
        key: &IdempotencyKey,
        token: u64,
        stale: &str,
    ) -> Result<(), PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .update_expression("REMOVE #progress")
            .condition_expression(format!("{HOLDER_CONDITION} AND #progress = :stale"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#progress", "progress")
            .expression_attribute_values(":in_progress", to_value(&Status::InProgress)?)
            .expression_attribute_values(":token", n(token))
            .expression_attribute_values(":stale", s(stale))
            .send()
            .await;
        unless_condition_failed("UpdateItem forget progress", result)
    }
}

fn key_of(idempotency: &IdempotencyKey) -> super::item::Item {
    key("pk", idempotency.as_str())
}
