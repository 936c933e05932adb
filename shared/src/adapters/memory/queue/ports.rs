//! The in-memory queue as the queue ports. On a FIFO queue a job's order key is its group
//! and its failure-record id its deduplication id, as on SQS; a job that cannot travel
//! there is refused before anything of the call is sent.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::MemoryQueue;
use crate::domain::delivery::{placement, DeadLetter, DeliveryJob};
use crate::domain::fanout::{FanOutMessage, FanOutTask};
use crate::domain::ids::EndpointId;
use crate::ports::{
    DeadLetterQueue, DeliveryQueue, Enqueue, FanOutQueue, Hold, PortError, QueueHold, QueueRecall,
    MAX_HOLD,
};

/// A message ready to send: its body, and its group and deduplication id if ordered.
struct Outgoing {
    body: String,
    delay: Duration,
    group: Option<(String, String)>,
}

fn body<T: Serialize>(value: &T) -> Result<String, PortError> {
    serde_json::to_string(value)
        .map_err(|e| PortError::Rejected(format!("unserializable message: {e}")))
}

impl MemoryQueue {
    /// What `job` becomes on this queue, or why it cannot go (`delivery::placement`).
    fn outgoing<T: Serialize>(
        &self,
        value: &T,
        job: &DeliveryJob,
        delay: Duration,
    ) -> Result<Outgoing, PortError> {
        let group = placement(job, delay, self.is_fifo()).map_err(PortError::Rejected)?;
        Ok(Outgoing {
            body: body(value)?,
            delay,
            group,
        })
    }

    fn send_all(&self, messages: Vec<Outgoing>) {
        for message in messages {
            match message.group {
                Some((group, dedup_id)) => {
                    self.send_grouped(&group, &dedup_id, message.body);
                }
                None => {
                    self.send(message.body, message.delay);
                }
            }
        }
    }
}

#[async_trait]
impl DeliveryQueue for MemoryQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let messages = jobs
            .iter()
            .map(|e| self.outgoing(&e.job, &e.job, e.delay))
            .collect::<Result<Vec<_>, _>>()?;
        self.send_all(messages);
        Ok(())
    }
}

/// An ordered task goes in its line like an ordered job; an unordered one with its delay.
#[async_trait]
impl FanOutQueue for MemoryQueue {
    async fn fan_out(&self, tasks: Vec<FanOutTask>, delay: Duration) -> Result<(), PortError> {
        let messages = tasks
            .into_iter()
            .map(|task| {
                let group = task.line().map(|line| (line.to_string(), task.dedup_id()));
                if group.is_some() != self.is_fifo() || (group.is_some() && !delay.is_zero()) {
                    return Err(PortError::Rejected(format!(
                        "fan-out task {} does not fit this queue (ordered: {}, FIFO: {})",
                        task.dedup_id(),
                        group.is_some(),
                        self.is_fifo()
                    )));
                }
                Ok(Outgoing {
                    body: body(&FanOutMessage { fan_out: task })?,
                    delay,
                    group,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.send_all(messages);
        Ok(())
    }

    async fn backlog(&self) -> Option<usize> {
        Some(self.ready())
    }
}

/// On a FIFO queue (the ordered queue's own dead-letter queue) a letter keeps its job's
/// group and deduplication id; the worker's letters go to a standard queue.
#[async_trait]
impl DeadLetterQueue for MemoryQueue {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        let messages = letters
            .iter()
            .map(|l| self.outgoing(l, &l.job, Duration::ZERO))
            .collect::<Result<Vec<_>, _>>()?;
        self.send_all(messages);
        Ok(())
    }
}

#[async_trait]
impl QueueHold for MemoryQueue {
    /// A hold with a stale receipt (or, on a FIFO queue, of a message no longer in flight)
    /// changes nothing and is skipped, as SQS refuses it.
    async fn hold(&self, holds: Vec<Hold>) -> Result<(), PortError> {
        for hold in &holds {
            self.change_visibility(&hold.receipt_handle, hold.delay.min(MAX_HOLD));
        }
        Ok(())
    }
}

/// The one field of a job's body a recover looks at.
#[derive(Deserialize)]
struct Addressed {
    endpoint_id: EndpointId,
}

#[async_trait]
impl QueueRecall for MemoryQueue {
    async fn bring_forward(&self, endpoint: &EndpointId) -> Result<usize, PortError> {
        let ours = |body: &str| {
            serde_json::from_str::<Addressed>(body).is_ok_and(|job| job.endpoint_id == *endpoint)
        };
        Ok(MemoryQueue::bring_forward(self, &ours))
    }
}
