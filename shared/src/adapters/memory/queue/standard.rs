//! The standard queue's backlog: per-message delays, no order beyond "oldest visible first".

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::{Receipts, Redriven, Taken};
use crate::ports::QueueMessage;

#[derive(Debug)]
struct Stored {
    id: String,
    body: String,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    receipt: Option<String>,
    /// Hidden by a delay or a hold, not by a receive being worked on: what a recover may
    /// bring forward.
    waiting: bool,
}

/// Messages by sequence number, indexed by when they become visible (then by sequence, so
/// equal times come out in the order sent) and by their current receipt handle: a receive
/// touches only the messages it returns, a delete only its own, however long the backlog.
#[derive(Debug, Default)]
pub(super) struct Standard {
    messages: HashMap<u64, Stored>,
    by_visibility: BTreeSet<(DateTime<Utc>, u64)>,
    by_receipt: HashMap<String, u64>,
    next: Receipts,
}

impl Standard {
    /// Adds a message visible from `visible_at`; returns its id.
    pub(super) fn send(&mut self, body: String, visible_at: DateTime<Utc>) -> String {
        let seq = self.next.next();
        let id = format!("msg-{seq}");
        self.messages.insert(
            seq,
            Stored {
                id: id.clone(),
                body,
                visible_at,
                receive_count: 0,
                receipt: None,
                waiting: true,
            },
        );
        self.by_visibility.insert((visible_at, seq));
        id
    }

    /// Up to `max` visible messages, oldest-visible first, each hidden until `hidden_until`.
    /// A message already received `limit` times is taken out to be redriven instead.
    pub(super) fn receive(
        &mut self,
        now: DateTime<Utc>,
        hidden_until: DateTime<Utc>,
        max: usize,
        limit: Option<u32>,
    ) -> Taken {
        let mut taken = Taken::default();
        let mut hidden = Vec::new();
        while taken.messages.len() < max {
            let Some(&(visible_at, seq)) = self.by_visibility.first() else {
                break;
            };
            if visible_at > now {
                break;
            }
            self.by_visibility.pop_first();
            let Some(message) = self.messages.get_mut(&seq) else {
                continue;
            };
            if limit.is_some_and(|limit| message.receive_count >= limit) {
                if let Some(message) = self.remove(seq) {
                    taken.redriven.push(Redriven {
                        body: message.body,
                        group: None,
                    });
                }
                continue;
            }
            let receipt = self.next.receipt();
            message.receive_count += 1;
            message.visible_at = hidden_until;
            message.waiting = false;
            let stale = message.receipt.replace(receipt.clone());
            taken.messages.push(QueueMessage {
                message_id: message.id.clone(),
                receipt_handle: receipt.clone(),
                body: message.body.clone(),
                receive_count: message.receive_count,
            });
            if let Some(stale) = stale {
                self.by_receipt.remove(&stale);
            }
            self.by_receipt.insert(receipt, seq);
            hidden.push(seq);
        }
        // Indexed again only now: with a zero visibility timeout a message taken here would
        // otherwise come up again in this same receive.
        for seq in hidden {
            self.by_visibility.insert((hidden_until, seq));
        }
        taken
    }

    /// Deletes a received message; false if the handle is stale (received again since).
    pub(super) fn delete(&mut self, receipt_handle: &str) -> bool {
        match self.by_receipt.get(receipt_handle).copied() {
            Some(seq) => self.remove(seq).is_some(),
            None => false,
        }
    }

    /// Makes a received message visible again at `at`; false if the handle is stale.
    pub(super) fn change_visibility(&mut self, receipt_handle: &str, at: DateTime<Utc>) -> bool {
        let Some(seq) = self.by_receipt.get(receipt_handle).copied() else {
            return false;
        };
        if let Some(message) = self.messages.get_mut(&seq) {
            self.by_visibility.remove(&(message.visible_at, seq));
            message.visible_at = at;
            message.waiting = true;
            self.by_visibility.insert((at, seq));
        }
        true
    }

    /// Makes every waiting message whose body `matches` visible at `now`; how many.
    pub(super) fn bring_forward(
        &mut self,
        now: DateTime<Utc>,
        matches: &dyn Fn(&str) -> bool,
    ) -> usize {
        let mut moved = 0;
        for (&seq, message) in &mut self.messages {
            if message.waiting && message.visible_at > now && matches(&message.body) {
                self.by_visibility.remove(&(message.visible_at, seq));
                message.visible_at = now;
                self.by_visibility.insert((now, seq));
                moved += 1;
            }
        }
        moved
    }

    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    /// Messages visible at `now`: waiting to be taken, neither delayed nor being worked on.
    pub(super) fn ready(&self, now: DateTime<Utc>) -> usize {
        self.by_visibility
            .iter()
            .take_while(|&&(at, _)| at <= now)
            .count()
    }

    pub(super) fn next_visible_at(&self) -> Option<DateTime<Utc>> {
        self.by_visibility.first().map(|&(at, _)| at)
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
