//! The SQS adapter: the deliveries queues (standard, or FIFO for ordered jobs) and the
//! dead-letter queue as ports (sending in batches of ten, retrying what a batch reports as
//! failed: `send`), holding received messages in place (`hold`), plus receive and delete
//! for the consumers that are not Lambda (local mode against SQS, the test harness); queue
//! creation with the redrive policy is in `setup`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
};
use aws_sdk_sqs::Client;

use super::dynamodb::error::{build_error, sdk_error};
use crate::domain::delivery::DeadLetter;
use crate::domain::fanout::FanOutTask;
use crate::ports::{DeadLetterQueue, DeliveryQueue, Enqueue, FanOutQueue, PortError, QueueMessage};

mod hold;
mod layout;
mod send;
mod setup;
pub use layout::{create_all_queues, QueueUrls};
pub use setup::{create_ordered_queues, create_queues};

/// SQS's limit on one message, and on all the messages of one batch call together.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Entries per batch call.
const BATCH_SIZE: usize = 10;

#[derive(Debug, Clone)]
pub struct SqsQueue {
    pub client: Client,
    pub queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Whether this is a FIFO queue: SQS requires their names, so their urls, to end in
    /// `.fifo`, and allows no dot in any other queue's name.
    pub fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    /// Up to `max` messages (1 to 10; from a FIFO queue, each group's in order), waiting up
    /// to `wait_secs` (0 to 20) for the first.
    pub async fn receive(&self, max: i32, wait_secs: i32) -> Result<Vec<QueueMessage>, PortError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait_secs.clamp(0, 20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        let malformed = |what: &str| PortError::Unavailable(format!("SQS message without {what}"));
        out.messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let receive_count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .ok_or_else(|| malformed("a receive count"))?;
                Ok(QueueMessage {
                    message_id: m.message_id.ok_or_else(|| malformed("an id"))?,
                    receipt_handle: m
                        .receipt_handle
                        .ok_or_else(|| malformed("a receipt handle"))?,
                    body: m.body.ok_or_else(|| malformed("a body"))?,
                    receive_count,
                })
            })
            .collect()
    }

    /// Deletes received messages, ten per call; fails if SQS refused any.
    pub async fn delete_batch(&self, receipt_handles: &[String]) -> Result<(), PortError> {
        for chunk in receipt_handles.chunks(BATCH_SIZE) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                        .map_err(build_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("DeleteMessageBatch", e))?;
            if !out.failed().is_empty() {
                return Err(refused("DeleteMessageBatch", out.failed(), chunk.len()));
            }
        }
        Ok(())
    }

    /// Hides a received message for `secs` more seconds (0: visible again now).
    pub async fn change_visibility(
        &self,
        receipt_handle: &str,
        secs: i32,
    ) -> Result<(), PortError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| sdk_error("ChangeMessageVisibility", e))?;
        Ok(())
    }
}

/// The error for entries a batch call refused: `Rejected` if any was the sender's fault.
fn refused(operation: &str, failed: &[BatchResultErrorEntry], of: usize) -> PortError {
    let codes: Vec<&str> = failed.iter().map(|f| f.code()).collect();
    let message = format!(
        "{operation}: {} of {of} refused ({})",
        failed.len(),
        codes.join(", ")
    );
    if failed.iter().any(|f| f.sender_fault()) {
        PortError::Rejected(message)
    } else {
        PortError::Unavailable(message)
    }
}

#[async_trait]
impl DeliveryQueue for SqsQueue {
    /// Refuses the whole call, before anything is sent, if any job cannot go (see
    /// `send`): an ordered job with a delay, or an unordered one on a FIFO queue.
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let messages = jobs.iter().map(|e| self.outgoing(&e.job, &e.job, e.delay));
        self.send_all(messages.collect::<Result<_, _>>()?).await
    }
}

#[async_trait]
impl FanOutQueue for SqsQueue {
    async fn fan_out(&self, tasks: Vec<FanOutTask>, delay: Duration) -> Result<(), PortError> {
        let messages = tasks
            .into_iter()
            .map(|task| self.outgoing_task(task, delay));
        self.send_all(messages.collect::<Result<_, _>>()?).await
    }

    /// Messages waiting on SQS cost this process nothing, so a fan-out never waits for them.
    async fn backlog(&self) -> Option<usize> {
        None
    }
}

#[async_trait]
impl DeadLetterQueue for SqsQueue {
    /// On a FIFO queue (the ordered queue's own dead-letter queue) a letter keeps its job's
    /// group and deduplication id; the worker's letters go to a standard queue.
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        let messages = letters
            .iter()
            .map(|l| self.outgoing(l, &l.job, Duration::ZERO));
        self.send_all(messages.collect::<Result<_, _>>()?).await
    }
}
