//! A queue with SQS's semantics in memory: per-message delays, a visibility timeout after
//! each receive, and redrive to a dead-letter queue after `max_receive_count` receives.
//! Bodies are stored as JSON text, exactly as they would cross SQS.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::lock;
use crate::domain::delivery::{later, DeadLetter};
use crate::ports::{Clock, DeadLetterQueue, DeliveryQueue, Enqueue, PortError, QueueMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    pub visibility_timeout: Duration,
    /// Receives after which a message moves to the dead-letter queue (`None`: never).
    pub max_receive_count: Option<u32>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(360),
            max_receive_count: Some(5),
        }
    }
}

#[derive(Debug)]
struct Stored {
    id: String,
    body: String,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    receipt: Option<String>,
}

/// Messages by sequence number, indexed by when they become visible (then by sequence, so
/// equal times come out in the order sent) and by their current receipt handle: a receive
/// touches only the messages it returns, a delete only its own, however long the backlog.
#[derive(Debug, Default)]
struct Inner {
    messages: HashMap<u64, Stored>,
    by_visibility: BTreeSet<(DateTime<Utc>, u64)>,
    by_receipt: HashMap<String, u64>,
    next: u64,
}

impl Inner {
    /// Moves message `seq` to become visible at `at`.
    fn reschedule(&mut self, seq: u64, at: DateTime<Utc>) {
        if let Some(message) = self.messages.get_mut(&seq) {
            self.by_visibility.remove(&(message.visible_at, seq));
            message.visible_at = at;
            self.by_visibility.insert((at, seq));
        }
    }

    fn remove(&mut self, seq: u64) -> Option<Stored> {
        let message = self.messages.remove(&seq)?;
        self.by_visibility.remove(&(message.visible_at, seq));
        if let Some(receipt) = &message.receipt {
            self.by_receipt.remove(receipt);
        }
        Some(message)
    }
}

/// Called after every send, so a consumer can wake up instead of polling.
pub type Wakeup = Box<dyn Fn() + Send + Sync>;

pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    settings: QueueSettings,
    dead_letter: Option<Arc<MemoryQueue>>,
    wakeup: Option<Wakeup>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryQueue")
            .field("settings", &self.settings)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl MemoryQueue {
    pub fn new(clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        Self {
            clock,
            settings,
            dead_letter: None,
            wakeup: None,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn with_wakeup(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    /// Messages received `max_receive_count` times without being deleted move there.
    pub fn with_dead_letter(mut self, dead_letter: Arc<MemoryQueue>) -> Self {
        self.dead_letter = Some(dead_letter);
        self
    }

    pub fn send(&self, body: String, delay: Duration) -> String {
        let now = self.clock.now();
        let mut inner = lock(&self.inner);
        inner.next += 1;
        let seq = inner.next;
        let id = format!("msg-{seq}");
        let visible_at = later(now, delay);
        inner.messages.insert(
            seq,
            Stored {
                id: id.clone(),
                body,
                visible_at,
                receive_count: 0,
                receipt: None,
            },
        );
        inner.by_visibility.insert((visible_at, seq));
        drop(inner);
        if let Some(wakeup) = &self.wakeup {
            wakeup();
        }
        id
    }

    /// Up to `max` visible messages, oldest-visible first, each hidden for the visibility
    /// timeout. A message over its receive limit is redriven instead of returned.
    pub fn receive(&self, max: usize) -> Vec<QueueMessage> {
        let now = self.clock.now();
        let hidden_until = later(now, self.settings.visibility_timeout);
        let mut redriven = Vec::new();
        let mut out = Vec::new();
        {
            let mut inner = lock(&self.inner);
            let mut taken = Vec::new();
            while out.len() < max {
                let Some(&(visible_at, seq)) = inner.by_visibility.first() else {
                    break;
                };
                if visible_at > now {
                    break;
                }
                inner.by_visibility.pop_first();
                let Some(message) = inner.messages.get(&seq) else {
                    continue;
                };
                let over_limit = self
                    .settings
                    .max_receive_count
                    .is_some_and(|limit| message.receive_count >= limit);
                if over_limit && self.dead_letter.is_some() {
                    if let Some(message) = inner.remove(seq) {
                        redriven.push(message.body);
                    }
                    continue;
                }
                inner.next += 1;
                let receipt = format!("rh-{}", inner.next);
                if let Some(message) = inner.messages.get_mut(&seq) {
                    message.receive_count += 1;
                    message.visible_at = hidden_until;
                    let stale = message.receipt.replace(receipt.clone());
                    out.push(QueueMessage {
                        message_id: message.id.clone(),
                        receipt_handle: receipt.clone(),
                        body: message.body.clone(),
                        receive_count: message.receive_count,
                    });
                    if let Some(stale) = stale {
                        inner.by_receipt.remove(&stale);
                    }
                    inner.by_receipt.insert(receipt, seq);
                }
                taken.push(seq);
            }
            // Indexed again only now: with a zero visibility timeout a message taken here
            // would otherwise come up again in this same receive.
            for seq in taken {
                inner.by_visibility.insert((hidden_until, seq));
            }
        }
        if let Some(dlq) = &self.dead_letter {
            for body in redriven {
                dlq.send(body, Duration::ZERO);
            }
        }
        out
    }

    /// Deletes a received message; false if the handle is stale (received again since).
    pub fn delete(&self, receipt_handle: &str) -> bool {
        let mut inner = lock(&self.inner);
        match inner.by_receipt.get(receipt_handle).copied() {
            Some(seq) => inner.remove(seq).is_some(),
            None => false,
        }
    }

    /// Makes a received message visible again after `delay` (ChangeMessageVisibility).
    pub fn change_visibility(&self, receipt_handle: &str, delay: Duration) -> bool {
        let now = self.clock.now();
        let mut inner = lock(&self.inner);
        match inner.by_receipt.get(receipt_handle).copied() {
            Some(seq) => {
                inner.reschedule(seq, later(now, delay));
                true
            }
            None => false,
        }
    }

    /// Messages held, visible or not.
    pub fn len(&self) -> usize {
        lock(&self.inner).messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the next message becomes visible, if any is held.
    pub fn next_visible_at(&self) -> Option<DateTime<Utc>> {
        lock(&self.inner).by_visibility.first().map(|&(at, _)| at)
    }

    fn send_json<T: Serialize>(&self, value: &T, delay: Duration) -> Result<(), PortError> {
        let body = serde_json::to_string(value)
            .map_err(|e| PortError::Rejected(format!("unserializable message: {e}")))?;
        self.send(body, delay);
        Ok(())
    }
}

#[async_trait]
impl DeliveryQueue for MemoryQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        for Enqueue { job, delay } in &jobs {
            self.send_json(job, *delay)?;
        }
        Ok(())
    }
}

#[async_trait]
impl DeadLetterQueue for MemoryQueue {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        for letter in &letters {
            self.send_json(letter, Duration::ZERO)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
