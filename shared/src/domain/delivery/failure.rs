//! What the dlq function records of a delivery given up on: the failure record (with, for an
//! ordered delivery, what its line did meanwhile) and the dead letter that carries a job
//! there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeliveryJob;
use crate::domain::ids::{DeliveryId, EndpointId, EventId};
use crate::domain::outcome::FailureReason;

/// A delivery given up on, as the dlq function records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The delivery id and generation: the same dead letter recorded twice is one record,
    /// a replay that fails again is a new one.
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
    /// Set once replayed, so an operator sees what was already retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
    /// Set for an ordered delivery: its line did not wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<OrderedFailure>,
    /// The job itself, for replay and for the full attempt history.
    pub job: DeliveryJob,
}

/// What an ordered delivery's failure tells an operator: which subject it was, where it
/// stood in the subject's order, and that the subject's later deliveries went on to the
/// endpoint after it was given up (a line waits for a delivery, never for a failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedFailure {
    pub subject: String,
    pub sequence: Option<u64>,
    pub note: String,
}

impl OrderedFailure {
    fn of(job: &DeliveryJob) -> Option<Self> {
        job.order_key.as_ref()?;
        let subject = job.event.subject.clone()?;
        Some(Self {
            note: format!(
                "ordered by subject: later deliveries of {} were sent after this one was \
                 given up; a replay arrives after them, with its original sequence, so a \
                 receiver that checks sequences drops it if it is stale",
                serde_json::Value::String(subject.clone())
            ),
            sequence: job.event.sequence,
            subject,
        })
    }
}

impl FailureRecord {
    pub fn id_for(job: &DeliveryJob) -> String {
        Self::id_of(&job.delivery_id, job.generation)
    }

    pub fn id_of(delivery: &DeliveryId, generation: u32) -> String {
        format!("{delivery}.{generation}")
    }

    pub fn new(job: DeliveryJob, reason: FailureReason, failed_at: DateTime<Utc>) -> Self {
        let last = job.history.last();
        Self {
            id: Self::id_for(&job),
            event_id: job.event.id.clone(),
            endpoint_id: job.endpoint_id.clone(),
            event_type: job.event.event_type.to_string(),
            reason,
            attempts: job.attempts,
            last_status: last.and_then(|a| a.status),
            last_error: last.and_then(|a| a.error.clone()),
            first_attempt_at: job.first_attempt_at,
            failed_at,
            replayed_at: None,
            ordered: OrderedFailure::of(&job),
            job,
        }
    }
}

/// A job on its way to the dead-letter queue, with the reason it was given up on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub reason: FailureReason,
    pub job: DeliveryJob,
}
