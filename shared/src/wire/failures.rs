//! The failures resource's answers: a failure as listed, and the ids a replay enqueued.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::delivery::{FailureRecord, OrderedFailure};
use crate::domain::ids::{EndpointId, EventId};
use crate::domain::outcome::FailureReason;

/// A failure as the API lists it: the record without the job it carries for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureItem {
    pub id: String,
    pub event_id: EventId,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub reason: FailureReason,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub failed_at: DateTime<Utc>,
    pub replayed_at: Option<DateTime<Utc>>,
    /// An ordered delivery's subject, sequence, and that its line went on without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<OrderedFailure>,
}

impl From<FailureRecord> for FailureItem {
    fn from(r: FailureRecord) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            event_type: r.event_type,
            reason: r.reason,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            first_attempt_at: r.first_attempt_at,
            failed_at: r.failed_at,
            replayed_at: r.replayed_at,
            ordered: r.ordered,
        }
    }
}

/// `POST /v1/failures/{id}/replay` and `POST /v1/failures/replay` → 202: the failures
/// whose jobs were enqueued again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replayed {
    pub replayed: Vec<String>,
}
