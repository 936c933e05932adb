//! The dlq function's use case: record every delivery given up on, idempotently.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::domain::delivery::{DeadLetter, DeliveryJob, FailureRecord, MAX_QUEUE_DELAY};
use crate::domain::fanout::{FanOutMessage, FanOutTask};
use crate::domain::outcome::FailureReason;
use crate::ports::{Clock, FailureStore, FanOutQueue, Received};

/// What can arrive on the DLQ: a dead letter the worker sent with its reason, a bare job
/// that the queue redrove after too many receives, or a fan-out task it redrove.
#[derive(Debug)]
pub enum DlqBody {
    Letter(DeadLetter),
    Redriven(DeliveryJob),
    FanOut(FanOutTask),
}

/// Tried as a letter, then as a job, then as a task, each from the JSON text itself:
/// `#[serde(untagged)]` would buffer the body first, and an event's raw `data` cannot be
/// read from a buffer.
impl<'de> Deserialize<'de> for DlqBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        serde_json::from_str(raw.get())
            .map(Self::Letter)
            .or_else(|_| serde_json::from_str(raw.get()).map(Self::Redriven))
            .or_else(|_| {
                serde_json::from_str::<FanOutMessage>(raw.get()).map(|m| Self::FanOut(m.fan_out))
            })
            .map_err(|_| serde::de::Error::custom("neither a dead letter nor a delivery job"))
    }
}

/// What became of a batch of DLQ messages; `failed` stay on the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordReport {
    pub failed: Vec<String>,
    pub recorded: u32,
    /// Of `recorded`, those SQS moved to the DLQ itself (receive limit reached), not the
    /// worker.
    pub redriven: u32,
    /// Already recorded (the same message delivered twice).
    pub duplicates: u32,
    /// Bodies that are no job at all; acknowledged, since nothing could ever record them.
    pub unreadable: Vec<String>,
    /// Fan-out tasks the queue redrove (their expansion kept failing), sent back to be
    /// expanded again later: an event's deliveries are never dropped with its task.
    pub fan_outs_returned: u32,
}

/// The dlq function: records what the DLQ holds into the failure store.
#[derive(Clone)]
pub struct Recorder {
    pub failures: Arc<dyn FailureStore>,
    /// Where redriven fan-out tasks go back to.
    pub fan_out: Arc<dyn FanOutQueue>,
    pub clock: Arc<dyn Clock>,
}

impl Recorder {
    pub async fn record(&self, messages: Vec<Received<DlqBody>>) -> RecordReport {
        let now = self.clock.now();
        let mut report = RecordReport::default();
        for message in messages {
            let (records, redriven) = match message.body {
                Ok(DlqBody::Letter(letter)) => (
                    vec![FailureRecord::new(letter.job, letter.reason, now)],
                    false,
                ),
                // A message carrying a batch's jobs (§3.15) is a failure of each of them.
                Ok(DlqBody::Redriven(job)) => (
                    job.unpack()
                        .into_iter()
                        .map(|job| FailureRecord::new(job, FailureReason::Redriven, now))
                        .collect(),
                    true,
                ),
                Ok(DlqBody::FanOut(task)) => {
                    // Whatever kept failing (a store down for hours) is given the queue's
                    // longest delay before the next try.
                    tracing::error!(event_id = %task.event.id, "fan-out task redriven; sent back");
                    match self.fan_out.fan_out(vec![task], MAX_QUEUE_DELAY).await {
                        Ok(()) => report.fan_outs_returned += 1,
                        Err(_) => report.failed.push(message.message_id),
                    }
                    continue;
                }
                Err(_) => {
                    report.unreadable.push(message.message_id);
                    continue;
                }
            };
            let mut failed = false;
            for record in &records {
                match self.failures.record(record).await {
                    Ok(true) => {
                        report.recorded += 1;
                        report.redriven += u32::from(redriven);
                    }
                    Ok(false) => report.duplicates += 1,
                    // Recorded ones are duplicates when the message comes back.
                    Err(_) => failed = true,
                }
            }
            if failed {
                report.failed.push(message.message_id);
            }
        }
        report
    }
}
