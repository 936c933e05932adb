//! The dlq function's use case: record every delivery given up on, idempotently, and replay
//! recorded failures on request.

use std::time::Duration;

use serde::Deserialize;

use super::deliver::Received;
use super::Env;
use crate::domain::delivery::{DeadLetter, DeliveryJob, FailureRecord};
use crate::domain::outcome::FailureReason;
use crate::ports::{DeliveryQueue, Enqueue, FailureStore, PortError};

/// What can arrive on the DLQ: a dead letter the worker sent with its reason, or a bare
/// job that the queue redrove after too many receives.
#[derive(Deserialize)]
#[serde(untagged)]
enum DlqBody {
    Letter(DeadLetter),
    Redriven(DeliveryJob),
}

/// What became of a batch of DLQ messages; `failed` stay on the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordReport {
    pub failed: Vec<String>,
    pub recorded: u32,
    /// Already recorded (the same message delivered twice).
    pub duplicates: u32,
    /// Bodies that are no job at all; acknowledged, since nothing could ever record them.
    pub unreadable: Vec<String>,
}

pub async fn record_failures(
    store: &dyn FailureStore,
    env: Env<'_>,
    messages: Vec<Received>,
) -> RecordReport {
    let now = env.now();
    let mut report = RecordReport::default();
    for message in messages {
        let record = match serde_json::from_str::<DlqBody>(&message.body) {
            Ok(DlqBody::Letter(letter)) => FailureRecord::new(letter.job, letter.reason, now),
            Ok(DlqBody::Redriven(job)) => FailureRecord::new(job, FailureReason::Redriven, now),
            Err(_) => {
                report.unreadable.push(message.message_id);
                continue;
            }
        };
        match store.record(&record).await {
            Ok(true) => report.recorded += 1,
            Ok(false) => report.duplicates += 1,
            Err(_) => report.failed.push(message.message_id),
        }
    }
    report
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no failure with id {0}")]
    NotFound(String),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// Enqueues a recorded failure again as a fresh delivery (attempts start over under a new
/// generation) and marks the record replayed.
pub async fn replay(
    store: &dyn FailureStore,
    queue: &dyn DeliveryQueue,
    env: Env<'_>,
    id: &str,
) -> Result<FailureRecord, ReplayError> {
    let record = store
        .get(id)
        .await?
        .ok_or_else(|| ReplayError::NotFound(id.to_owned()))?;
    queue
        .enqueue(vec![Enqueue {
            job: record.job.replayed(),
            delay: Duration::ZERO,
        }])
        .await?;
    store.mark_replayed(id, env.now()).await?;
    Ok(record)
}
