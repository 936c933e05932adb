//! The idempotency record as stored in the state table, and what its attributes say: the
//! outcome a read or a refused claim reports, and the progress a claim takes over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::adapters::dynamodb::error::corrupt;
use crate::adapters::dynamodb::item::{from_epoch_millis, from_item, Item};
use crate::domain::delivery::{AttemptRecord, Progress};
use crate::ports::{ClaimOutcome, PortError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    InProgress,
    Completed,
}

/// Read only: the claim, pause and completion write its attributes one by one.
#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    pub(crate) pk: String,
    pub(crate) status: Status,
    /// Epoch milliseconds; only while in progress (0 once paused: lapsed).
    #[serde(default)]
    pub(crate) lease_until: Option<i64>,
    /// Epoch seconds: the table's TTL attribute.
    pub(crate) expires_at: i64,
    /// Only once completed: the attempt history as a JSON string, the form the worker has
    /// always written, so records written before the history was typed still load.
    #[serde(default)]
    pub(crate) detail: Option<String>,
    /// Only while in progress, from the first pause on (claims keep it): the [`Progress`]
    /// as a JSON string, like `detail`. Records written before pausing existed have none.
    #[serde(default)]
    pub(crate) progress: Option<String>,
}

/// The `detail` attribute of a completed record.
pub(crate) fn encode_history(history: &[AttemptRecord]) -> Result<String, PortError> {
    serde_json::to_string(history)
        .map_err(|e| PortError::Rejected(format!("cannot encode attempt history: {e}")))
}

/// The attempt history of a completed record, from its `detail` attribute.
fn decode_history(pk: &str, detail: &str) -> Result<Vec<AttemptRecord>, PortError> {
    serde_json::from_str(detail)
        .map_err(|e| corrupt("idempotency record", format!("{pk}: attempt history: {e}")))
}

/// The `progress` attribute of a paused record.
pub(crate) fn encode_progress(progress: &Progress) -> Result<String, PortError> {
    serde_json::to_string(progress)
        .map_err(|e| PortError::Rejected(format!("cannot encode delivery progress: {e}")))
}

impl Record {
    /// Whether TTL may have deleted it by `now` (it deletes lazily, so reads check).
    pub(crate) fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now.timestamp()
    }

    /// What the record says to a read, or to a claim it refused.
    pub(crate) fn outcome(self) -> Result<ClaimOutcome, PortError> {
        match (self.status, self.detail, self.lease_until) {
            (Status::Completed, Some(detail), _) => Ok(ClaimOutcome::Completed {
                history: decode_history(&self.pk, &detail)?,
            }),
            (Status::InProgress, _, Some(millis)) => Ok(ClaimOutcome::InProgress {
                lease_until: from_epoch_millis(millis)?,
            }),
            _ => Err(corrupt(
                "idempotency record",
                format!("{} lacks its detail or lease", self.pk),
            )),
        }
    }

    /// The progress a claim over this record (its state before the claim) takes over: only
    /// an unfinished, unexpired record passes one on.
    pub(crate) fn progress_for(&self, now: DateTime<Utc>) -> Result<Option<Progress>, PortError> {
        match &self.progress {
            Some(json) if self.status == Status::InProgress && !self.expired(now) => {
                serde_json::from_str(json).map(Some).map_err(|e| {
                    corrupt("idempotency record", format!("{}: progress: {e}", self.pk))
                })
            }
            _ => Ok(None),
        }
    }
}

/// The record in an item DynamoDB returned: the one that refused a claim, or the one a claim
/// replaced (none if there was none).
pub(crate) fn record_in(item: Option<Item>) -> Result<Option<Record>, PortError> {
    match item {
        Some(item) if !item.is_empty() => from_item("idempotency record", item).map(Some),
        _ => Ok(None),
    }
}
