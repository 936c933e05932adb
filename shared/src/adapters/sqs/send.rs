//! Sending: messages in batches of ten (and 256 KiB), entries SQS did not accept sent
//! again. An ordered job on a FIFO queue goes with its order key as MessageGroupId and its
//! failure-record id as MessageDeduplicationId, and never with a delay.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::Serialize;

use super::{refused, SqsQueue, BATCH_SIZE, MAX_MESSAGE_BYTES};
use crate::adapters::dynamodb::error::{build_error, sdk_error};
use crate::domain::delivery::{placement, DeliveryJob, MAX_QUEUE_DELAY};
use crate::domain::fanout::{FanOutMessage, FanOutTask};
use crate::ports::PortError;

/// Further rounds for entries a batch call reports as failed, and the wait before the first.
const RETRY_ROUNDS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// One message to send.
pub(super) struct Outgoing {
    body: String,
    delay_secs: i32,
    /// (MessageGroupId, MessageDeduplicationId), on a FIFO queue.
    group: Option<(String, String)>,
}

impl SqsQueue {
    /// What `value` (carrying `job`) becomes on this queue, or why it cannot go
    /// (`delivery::placement`).
    pub(super) fn outgoing<T: Serialize>(
        &self,
        value: &T,
        job: &DeliveryJob,
        delay: Duration,
    ) -> Result<Outgoing, PortError> {
        let group = placement(job, delay, self.is_fifo()).map_err(PortError::Rejected)?;
        let body = serde_json::to_string(value)
            .map_err(|e| PortError::Rejected(format!("unserializable message: {e}")))?;
        Ok(Outgoing {
            body,
            delay_secs: delay_secs(delay),
            group,
        })
    }

    /// What a fan-out task becomes on this queue: an ordered one in its line (FIFO only,
    /// without a delay), an unordered one with its delay (standard only).
    pub(super) fn outgoing_task(
        &self,
        task: FanOutTask,
        delay: Duration,
    ) -> Result<Outgoing, PortError> {
        let group = task.line().map(|line| (line.to_string(), task.dedup_id()));
        if group.is_some() != self.is_fifo() || (group.is_some() && !delay.is_zero()) {
            return Err(PortError::Rejected(format!(
                "fan-out task {} does not fit this queue (ordered: {}, FIFO: {})",
                task.dedup_id(),
                group.is_some(),
                self.is_fifo()
            )));
        }
        let body = serde_json::to_string(&FanOutMessage { fan_out: task })
            .map_err(|e| PortError::Rejected(format!("unserializable message: {e}")))?;
        Ok(Outgoing {
            body,
            delay_secs: delay_secs(delay),
            group,
        })
    }

    /// Sends everything or fails; every body is checked before the first is sent.
    pub(super) async fn send_all(&self, messages: Vec<Outgoing>) -> Result<(), PortError> {
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
                .map(|&i| entry(i, &batch[i]))
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
            // Whatever SQS did not report as sent is sent again, reported failed or not (on
            // a FIFO queue the deduplication id drops it if it was sent after all).
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

fn entry(i: usize, message: &Outgoing) -> Result<SendMessageBatchRequestEntry, PortError> {
    let entry = SendMessageBatchRequestEntry::builder()
        .id(i.to_string())
        .message_body(&message.body);
    let entry = match &message.group {
        // No DelaySeconds at all: a FIFO queue refuses it per message, even zero.
        Some((group, dedup_id)) => entry
            .message_group_id(group)
            .message_deduplication_id(dedup_id),
        None => entry.delay_seconds(message.delay_secs),
    };
    entry.build().map_err(build_error)
}

/// Groups messages into batch calls: at most ten, at most `MAX_MESSAGE_BYTES` together, and
/// at most one of each message group. SQS does not say how the entries of one call are
/// ordered when some fail and are sent again, so a group's next message goes in a later
/// call, which `send_all` makes only once every earlier call was accepted: a message that
/// needed another try can never end up behind a later one of its group.
fn batches(messages: Vec<Outgoing>) -> Vec<Vec<Outgoing>> {
    let mut out: Vec<Vec<Outgoing>> = Vec::new();
    let mut bytes = 0;
    let mut groups: HashSet<String> = HashSet::new();
    for message in messages {
        let group = message.group.as_ref().map(|(group, _)| group);
        let fits = out.last().is_some_and(|last| {
            last.len() < BATCH_SIZE
                && bytes + message.body.len() <= MAX_MESSAGE_BYTES
                && group.is_none_or(|g| !groups.contains(g))
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
            groups.clear();
        }
        if let Some(group) = group {
            groups.insert(group.clone());
        }
        bytes += message.body.len();
        if let Some(last) = out.last_mut() {
            last.push(message);
        }
    }
    out
}

/// Whole seconds rounded up, so a job never arrives early, and at most SQS's 900.
fn delay_secs(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    i32::try_from(secs.min(MAX_QUEUE_DELAY.as_secs())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped(groups: &[&str]) -> Vec<Vec<String>> {
        let messages = groups.iter().enumerate().map(|(i, g)| Outgoing {
            body: "x".into(),
            delay_secs: 0,
            group: Some(((*g).to_owned(), i.to_string())),
        });
        let names = |batch: &Vec<Outgoing>| {
            let name = |m: &Outgoing| m.group.as_ref().map(|g| g.0.clone()).unwrap_or_default();
            batch.iter().map(name).collect()
        };
        batches(messages.collect()).iter().map(names).collect()
    }

    #[test]
    fn a_batch_holds_one_message_of_each_group() {
        assert_eq!(
            grouped(&["a", "b", "a", "c", "b", "a"]),
            [vec!["a", "b"], vec!["a", "c", "b"], vec!["a"]]
        );
        let twelve: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        let names: Vec<&str> = twelve.iter().map(String::as_str).collect();
        assert_eq!(
            grouped(&names).iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 2]
        );
    }

    fn sizes(bodies: &[usize]) -> Vec<usize> {
        let messages = bodies.iter().map(|&n| Outgoing {
            body: "x".repeat(n),
            delay_secs: 0,
            group: None,
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
