//! A queue with SQS's semantics in memory, standard or FIFO. Standard: per-message delays,
//! a visibility timeout after each receive, and redrive to a dead-letter queue after
//! `max_receive_count` receives. FIFO ([`MemoryQueue::fifo`]): the same, with messages in
//! groups served one line at a time, deduplication, and no per-message delay (`fifo.rs`).
//! Bodies are stored as JSON text, exactly as they would cross SQS.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::delivery::later;
use crate::ports::{Clock, QueueMessage};

mod dedup;
mod fifo;
mod ports;
mod standard;

pub use dedup::DEDUP_WINDOW;
use fifo::Fifo;
use standard::Standard;

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

/// Message sequence numbers and receipt handles, from one counter.
#[derive(Debug, Default)]
struct Receipts(u64);

impl Receipts {
    fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    fn receipt(&mut self) -> String {
        format!("rh-{}", self.next())
    }
}

/// What one receive took out of a backlog: messages to hand over, and messages over their
/// receive limit, to redrive.
#[derive(Debug, Default)]
struct Taken {
    messages: Vec<QueueMessage>,
    redriven: Vec<Redriven>,
}

/// A message on its way to the dead-letter queue; a FIFO queue's keeps its group.
#[derive(Debug)]
struct Redriven {
    body: String,
    group: Option<String>,
}

#[derive(Debug)]
enum Backlog {
    Standard(Standard),
    Fifo(Fifo),
}

/// Called after every send, so a consumer can wake up instead of polling; also when a
/// message is made visible again at once or a FIFO group is freed by a delete.
pub type Wakeup = Box<dyn Fn() + Send + Sync>;

/// One type for both kinds, so whatever holds queues holds any of them.
pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    settings: QueueSettings,
    dead_letter: Option<Arc<MemoryQueue>>,
    wakeup: Option<Wakeup>,
    backlog: Mutex<Backlog>,
}

impl std::fmt::Debug for MemoryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryQueue")
            .field("settings", &self.settings)
            .field("fifo", &self.is_fifo())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl MemoryQueue {
    /// A standard queue.
    pub fn new(clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        Self::with_backlog(clock, settings, Backlog::Standard(Standard::default()))
    }

    /// A FIFO queue: messages sent with a group ([`MemoryQueue::send_grouped`], or a job's
    /// order key through the `DeliveryQueue` port) come out one group-line at a time.
    pub fn fifo(clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        Self::with_backlog(clock, settings, Backlog::Fifo(Fifo::default()))
    }

    fn with_backlog(clock: Arc<dyn Clock>, settings: QueueSettings, backlog: Backlog) -> Self {
        Self {
            clock,
            settings,
            dead_letter: None,
            wakeup: None,
            backlog: Mutex::new(backlog),
        }
    }

    pub fn with_wakeup(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    /// Messages received `max_receive_count` times without being deleted move there (a
    /// FIFO queue's into the same group, if the dead-letter queue is FIFO too).
    pub fn with_dead_letter(mut self, dead_letter: Arc<MemoryQueue>) -> Self {
        self.dead_letter = Some(dead_letter);
        self
    }

    pub fn is_fifo(&self) -> bool {
        matches!(*lock(&self.backlog), Backlog::Fifo(_))
    }

    /// Sends a message visible after `delay`; returns its id. On a FIFO queue it goes in a
    /// group of its own, so it waits for nothing and nothing waits for it.
    pub fn send(&self, body: String, delay: Duration) -> String {
        let now = self.clock.now();
        let visible_at = later(now, delay);
        let id = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.send(body, visible_at),
            Backlog::Fifo(backlog) => backlog
                .send(None, None, body, now, visible_at)
                .unwrap_or_default(),
        };
        self.wake();
        id
    }

    /// Sends a message to the end of `group` (SQS's MessageGroupId) with `dedup_id`
    /// (MessageDeduplicationId); returns its id, or `None` if the id was already sent to the
    /// group within [`DEDUP_WINDOW`] (accepted and dropped, as SQS does). A standard queue
    /// has no groups: there it is an ordinary send.
    pub fn send_grouped(&self, group: &str, dedup_id: &str, body: String) -> Option<String> {
        let now = self.clock.now();
        let id = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => Some(backlog.send(body, now)),
            Backlog::Fifo(backlog) => backlog.send(Some(group), Some(dedup_id), body, now, now),
        };
        if id.is_some() {
            self.wake();
        }
        id
    }

    /// Up to `max` visible messages, each hidden for the visibility timeout: a standard
    /// queue's oldest-visible first; a FIFO queue's from its available groups, oldest group
    /// first, each group's in the order sent. A message over its receive limit is redriven
    /// instead of returned.
    pub fn receive(&self, max: usize) -> Vec<QueueMessage> {
        let now = self.clock.now();
        let hidden_until = later(now, self.settings.visibility_timeout);
        // Without a dead-letter queue there is nowhere to redrive to: no limit then.
        let limit = self
            .settings
            .max_receive_count
            .filter(|_| self.dead_letter.is_some());
        let taken = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.receive(now, hidden_until, max, limit),
            Backlog::Fifo(backlog) => backlog.receive(now, hidden_until, max, limit),
        };
        if let Some(dlq) = &self.dead_letter {
            for redriven in taken.redriven {
                dlq.take_redriven(redriven);
            }
        }
        taken.messages
    }

    /// Deletes a received message; false if the handle is stale (received again since).
    pub fn delete(&self, receipt_handle: &str) -> bool {
        let now = self.clock.now();
        let (deleted, freed) = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => (backlog.delete(receipt_handle), false),
            Backlog::Fifo(backlog) => backlog.delete(receipt_handle, now),
        };
        if freed {
            self.wake();
        }
        deleted
    }

    /// Makes a received message visible again after `delay` (ChangeMessageVisibility);
    /// false if the handle is stale, or, on a FIFO queue, the message is not in flight.
    pub fn change_visibility(&self, receipt_handle: &str, delay: Duration) -> bool {
        let now = self.clock.now();
        let at = later(now, delay);
        let changed = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.change_visibility(receipt_handle, at),
            Backlog::Fifo(backlog) => backlog.change_visibility(receipt_handle, now, at),
        };
        if changed && delay.is_zero() {
            self.wake();
        }
        changed
    }

    /// Makes every message waiting on a delay or a hold whose body `matches` visible now
    /// (messages being worked on are left alone); how many. What `recover` does here, and
    /// what SQS cannot do: there, delayed and held messages cannot be found.
    pub fn bring_forward(&self, matches: &dyn Fn(&str) -> bool) -> usize {
        let now = self.clock.now();
        let moved = match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.bring_forward(now, matches),
            Backlog::Fifo(backlog) => backlog.bring_forward(now, matches),
        };
        if moved > 0 {
            self.wake();
        }
        moved
    }

    /// Messages held, visible or not.
    pub fn len(&self) -> usize {
        match &*lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.len(),
            Backlog::Fifo(backlog) => backlog.len(),
        }
    }

    /// What can be taken now: visible messages, or on a FIFO queue groups whose next message
    /// is visible. Delayed and held messages are not counted: they wait for time, not work.
    pub fn ready(&self) -> usize {
        let now = self.clock.now();
        match &*lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.ready(now),
            Backlog::Fifo(backlog) => backlog.ready(now),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the next message becomes visible (on a FIFO queue: the next group available),
    /// if any is held.
    pub fn next_visible_at(&self) -> Option<DateTime<Utc>> {
        match &*lock(&self.backlog) {
            Backlog::Standard(backlog) => backlog.next_visible_at(),
            Backlog::Fifo(backlog) => backlog.next_visible_at(),
        }
    }

    fn take_redriven(&self, redriven: Redriven) {
        let now = self.clock.now();
        match &mut *lock(&self.backlog) {
            Backlog::Standard(backlog) => {
                backlog.send(redriven.body, now);
            }
            // No deduplication: SQS moves the message itself, it is not sent again.
            Backlog::Fifo(backlog) => {
                backlog.send(redriven.group.as_deref(), None, redriven.body, now, now);
            }
        }
        self.wake();
    }

    fn wake(&self) {
        if let Some(wakeup) = &self.wakeup {
            wakeup();
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fifo_tests;

#[cfg(test)]
mod ports_tests;
