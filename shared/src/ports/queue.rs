//! The queue as a port pair: producers (`DeliveryQueue`, `DeadLetterQueue`) that send jobs
//! and dead letters, and a consumer that hands over raw messages. A message is decoded once,
//! at the boundary, into a typed [`Received`] (an unreadable body kept as a value), so the
//! use cases parse nothing from the wire.

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::PortError;
use crate::domain::delivery::{DeadLetter, DeliveryJob};
use crate::domain::fanout::FanOutTask;
use crate::domain::ids::EndpointId;

/// A job and how long the queue should hold it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    pub job: DeliveryJob,
    pub delay: Duration,
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Enqueues every job or fails; a failure may leave some enqueued, which is safe
    /// because a delivery enqueued twice is delivered once.
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError>;
}

/// Sends fan-out tasks (`domain::fanout`): an ordered one to the ordered queue in its line,
/// an unordered one to the standard queue with its delay.
#[async_trait]
pub trait FanOutQueue: Send + Sync {
    /// Enqueues every task or fails; a task enqueued twice expands pages twice, whose
    /// deliveries are still sent once.
    async fn fan_out(&self, tasks: Vec<FanOutTask>, delay: Duration) -> Result<(), PortError>;
    /// How many messages wait on the deliveries queues, where that is cheap to know and
    /// costs memory here (in memory); `None` on SQS, whose backlog costs nothing here.
    async fn backlog(&self) -> Option<usize>;
}

#[async_trait]
pub trait DeadLetterQueue: Send + Sync {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError>;
}

/// A message as a queue hands it over; `receipt_handle` deletes it or changes its
/// visibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub receive_count: u32,
}

impl QueueMessage {
    pub fn decode<T: DeserializeOwned>(&self) -> Received<T> {
        Received::decode(
            self.message_id.clone(),
            self.receipt_handle.clone(),
            &self.body,
        )
    }
}

/// Keep a received message hidden `delay` longer, counted from now (zero: visible again at
/// once). How an ordered delivery waits for its retry without leaving its place in line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub receipt_handle: String,
    pub delay: Duration,
}

pub use crate::domain::order::MAX_HOLD;

/// The ordered queue's redrive limit: SQS's highest. Every hold and every wait behind a
/// line's head counts as a receive there, so a lower limit would dead-letter deliveries
/// that are only waiting; the worker decides when to give up, as on the standard queue.
pub const ORDERED_MAX_RECEIVES: u32 = 1000;

/// Changes the visibility of messages received from a queue (`ChangeMessageVisibility`):
/// the ordered queue's retries and deferrals, which must keep each message in its group.
#[async_trait]
pub trait QueueHold: Send + Sync {
    /// Applies every hold or fails; delays above [`MAX_HOLD`] are cut to it. A hold whose
    /// receipt is stale (the message was received again since) is skipped, as SQS does.
    async fn hold(&self, holds: Vec<Hold>) -> Result<(), PortError>;
}

/// Brings an endpoint's waiting deliveries forward: what `recover` asks of each deliveries
/// queue once the endpoint's circuit is closed.
#[async_trait]
pub trait QueueRecall: Send + Sync {
    /// Makes every message of `endpoint`'s jobs that waits on this queue — delayed, or held
    /// in place — visible now, and says how many; messages being worked on are left alone.
    /// SQS cannot list delayed or in-flight messages, so its adapter brings none forward
    /// and says 0: there the worker cuts such waits short at the job's next look instead
    /// (`domain::recovery`).
    async fn bring_forward(&self, endpoint: &EndpointId) -> Result<usize, PortError>;
}

/// Where consumers take messages from (in memory, or an SQS queue).
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` messages, waiting at most `wait` for the first.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, PortError>;
    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError>;
}

/// A message decoded into what its consumer expects, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<T> {
    pub message_id: String,
    /// What holds the message in place (an ordered delivery's retry).
    pub receipt_handle: String,
    pub body: Result<T, DecodeError>,
}

impl<T: DeserializeOwned> Received<T> {
    pub fn decode(message_id: String, receipt_handle: String, body: &str) -> Self {
        Self {
            message_id,
            receipt_handle,
            body: serde_json::from_str(body).map_err(|e| DecodeError {
                kind: e.classify(),
                line: e.line(),
                column: e.column(),
            }),
        }
    }
}

/// Where a body stopped being what was expected; never the body itself, which may carry
/// personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unreadable message ({kind:?} at line {line}, column {column})")]
pub struct DecodeError {
    pub kind: serde_json::error::Category,
    pub line: usize,
    pub column: usize,
}
