//! The SQS adapter: the deliveries queue and the dead-letter queue as ports (sending in
//! batches of ten, retrying what a batch reports as failed), plus receive and delete for the
//! consumers that are not Lambda (local mode against SQS, the test harness); queue creation
//! with the redrive policy is in `setup`.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use serde::Serialize;

use super::dynamodb::error::{build_error, sdk_error};
use crate::domain::delivery::{DeadLetter, MAX_QUEUE_DELAY};
use crate::ports::{DeadLetterQueue, DeliveryQueue, Enqueue, PortError, QueueMessage};

mod setup;
pub use setup::create_queues;

/// SQS's limit on one message, and on all the messages of one batch call together.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Entries per batch call.
const BATCH_SIZE: usize = 10;
/// Further rounds for entries a batch call reports as failed, and the wait before the first.
const RETRY_ROUNDS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct SqsQueue {
    pub client: Client,
    pub queue_url: String,
}

/// One message to send.
struct Outgoing {
    body: String,
    delay_secs: i32,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Up to `max` messages (1 to 10), waiting up to `wait_secs` (0 to 20) for the first.
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

    /// Sends everything or fails; every body is checked before the first is sent.
    async fn send_all(&self, messages: Vec<Outgoing>) -> Result<(), PortError> {
        if let Some(big) = messages.iter().find(|m| m.body.len() > MAX_MESSAGE_BYTES) {
            return Err(PortError::Rejected(format!(
                "message of {} bytes exceeds SQS's {MAX_MESSAGE_BYTES}",
                big.body.len()
            )));
        }
        for batch in batches(messages) {
            self.send_batch(&batch).await?;
        }
        Ok(())
    }

    /// One batch, sent again for the entries SQS did not accept, until none is left.
    async fn send_batch(&self, batch: &[Outgoing]) -> Result<(), PortError> {
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut backoff = FIRST_BACKOFF;
        for round in 0..=RETRY_ROUNDS {
            if round > 0 {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            let entries = pending
                .iter()
                .map(|&i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&batch[i].body)
                        .delay_seconds(batch[i].delay_secs)
                        .build()
                        .map_err(build_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("SendMessageBatch", e))?;
            // A message SQS finds fault with would be refused again.
            if out.failed().iter().any(|f| f.sender_fault()) {
                return Err(refused("SendMessageBatch", out.failed(), pending.len()));
            }
            // Whatever SQS did not report as sent is sent again, reported failed or not.
            let sent: HashSet<&str> = out.successful().iter().map(|s| s.id()).collect();
            pending.retain(|i| !sent.contains(i.to_string().as_str()));
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(PortError::Unavailable(format!(
            "SendMessageBatch: {} of {} messages still not accepted after {RETRY_ROUNDS} retries",
            pending.len(),
            batch.len()
        )))
    }
}

/// Groups messages into batch calls: at most ten, and at most `MAX_MESSAGE_BYTES` together.
fn batches(messages: Vec<Outgoing>) -> Vec<Vec<Outgoing>> {
    let mut out: Vec<Vec<Outgoing>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let fits = out.last().is_some_and(|last| {
            last.len() < BATCH_SIZE && bytes + message.body.len() <= MAX_MESSAGE_BYTES
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += message.body.len();
        if let Some(last) = out.last_mut() {
            last.push(message);
        }
    }
    out
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

fn outgoing<T: Serialize>(value: &T, delay: Duration) -> Result<Outgoing, PortError> {
    let body = serde_json::to_string(value)
        .map_err(|e| PortError::Rejected(format!("unserializable message: {e}")))?;
    Ok(Outgoing {
        body,
        delay_secs: delay_secs(delay),
    })
}

/// Whole seconds rounded up, so a job never arrives early, and at most SQS's 900.
fn delay_secs(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    i32::try_from(secs.min(MAX_QUEUE_DELAY.as_secs())).unwrap_or(0)
}

#[async_trait]
impl DeliveryQueue for SqsQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let messages = jobs.iter().map(|e| outgoing(&e.job, e.delay));
        self.send_all(messages.collect::<Result<_, _>>()?).await
    }
}

#[async_trait]
impl DeadLetterQueue for SqsQueue {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        let messages = letters.iter().map(|l| outgoing(l, Duration::ZERO));
        self.send_all(messages.collect::<Result<_, _>>()?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(bodies: &[usize]) -> Vec<usize> {
        let messages = bodies.iter().map(|&n| Outgoing {
            body: "x".repeat(n),
            delay_secs: 0,
        });
        batches(messages.collect()).iter().map(Vec::len).collect()
    }

    #[test]
    fn batches_hold_ten_messages_and_256_kib() {
        assert_eq!(sizes(&[10; 25]), [10, 10, 5]);
        assert_eq!(sizes(&[100 * 1024; 5]), [2, 2, 1]);
        assert!(sizes(&[]).is_empty());
    }

    #[test]
    fn delays_are_whole_seconds_up_to_900() {
        let secs = |ms| delay_secs(Duration::from_millis(ms));
        assert_eq!(
            [secs(0), secs(1500), secs(900_000), secs(86_400_000)],
            [0, 2, 900, 900]
        );
    }
}
