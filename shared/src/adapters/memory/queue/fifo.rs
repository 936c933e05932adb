//! The FIFO queue's backlog, with SQS FIFO's semantics: every message is in a group; a
//! group with a message in flight is blocked whole; an available group hands out its
//! messages in the order sent; a deduplication id seen in the last five minutes (per group,
//! as `DeduplicationScope=messageGroup`) is accepted and dropped.
//!
//! Groups are indexed by when they next become available (then by their head's sequence,
//! so older lines go first), so a receive touches only the groups it serves and never walks
//! the backlog of a blocked one.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::dedup::Dedup;
use super::{Receipts, Redriven, Taken};
use crate::ports::QueueMessage;

#[derive(Debug)]
struct Stored {
    id: String,
    body: String,
    group: Arc<str>,
    /// When sent (or delayed to), or, once received, when it is visible again.
    visible_at: DateTime<Utc>,
    receive_count: u32,
    receipt: Option<String>,
    /// Hidden by a hold, not by a receive being worked on: what a recover may bring forward.
    held: bool,
}

#[derive(Debug, Default)]
struct Group {
    /// Its messages not yet deleted, in the order sent; received ones keep their place.
    queued: BTreeSet<u64>,
    /// Its received messages by when they are visible again: the group is blocked until
    /// the last of them. Entries already past are harmless and cleared at its next receive.
    in_flight: BTreeSet<(DateTime<Utc>, u64)>,
    /// Its entry in [`Fifo::available`].
    key: Option<(DateTime<Utc>, u64)>,
}

#[derive(Debug, Default)]
pub(super) struct Fifo {
    messages: HashMap<u64, Stored>,
    groups: HashMap<Arc<str>, Group>,
    /// Every group with messages, by (when it is available, its head's sequence).
    available: BTreeSet<(DateTime<Utc>, u64)>,
    by_receipt: HashMap<String, u64>,
    dedup: Dedup,
    next: Receipts,
}

impl Fifo {
    /// Adds a message to `group` (a new group if empty; `None`: a group of its own), visible
    /// from `visible_at`, unless `dedup_id` was sent to the group within [`DEDUP_WINDOW`](super::DEDUP_WINDOW);
    /// returns its id if added.
    pub(super) fn send(
        &mut self,
        group: Option<&str>,
        dedup_id: Option<&str>,
        body: String,
        now: DateTime<Utc>,
        visible_at: DateTime<Utc>,
    ) -> Option<String> {
        if let (Some(group), Some(dedup_id)) = (group, dedup_id) {
            if !self.dedup.admit(group, dedup_id, now) {
                return None;
            }
        }
        let seq = self.next.next();
        let id = format!("msg-{seq}");
        let group: Arc<str> = match group {
            Some(name) => self
                .groups
                .get_key_value(name)
                .map_or_else(|| Arc::from(name), |(known, _)| known.clone()),
            None => Arc::from(id.as_str()),
        };
        let lines = self.groups.entry(group.clone()).or_default();
        let first = lines.queued.is_empty();
        lines.queued.insert(seq);
        self.messages.insert(
            seq,
            Stored {
                id: id.clone(),
                body,
                group: group.clone(),
                visible_at,
                receive_count: 0,
                receipt: None,
                held: false,
            },
        );
        // A later message changes neither the group's head nor what blocks it.
        if first {
            self.reindex(&group);
        }
        Some(id)
    }

    /// Up to `max` messages from the available groups, oldest first, each group's in the
    /// order sent; each is hidden until `hidden_until`, which blocks its group. A message
    /// already received `limit` times is taken out to be redriven instead, keeping its group.
    pub(super) fn receive(
        &mut self,
        now: DateTime<Utc>,
        hidden_until: DateTime<Utc>,
        max: usize,
        limit: Option<u32>,
    ) -> Taken {
        let mut taken = Taken::default();
        let mut served = Vec::new();
        while taken.messages.len() < max {
            let Some(&(at, head)) = self.available.first() else {
                break;
            };
            if at > now {
                break;
            }
            self.available.pop_first();
            let Some(name) = self.messages.get(&head).map(|m| m.group.clone()) else {
                continue;
            };
            let Some(group) = self.groups.get_mut(&name) else {
                continue;
            };
            group.key = None;
            // Available means everything in flight is visible again by now.
            group.in_flight.clear();
            let mut from = head;
            while taken.messages.len() < max {
                let Some(&seq) = group.queued.range(from..).next() else {
                    break;
                };
                from = seq + 1;
                let Some(message) = self.messages.get_mut(&seq) else {
                    continue;
                };
                if limit.is_some_and(|limit| message.receive_count >= limit) {
                    group.queued.remove(&seq);
                    if let Some(message) = self.messages.remove(&seq) {
                        if let Some(receipt) = &message.receipt {
                            self.by_receipt.remove(receipt);
                        }
                        taken.redriven.push(Redriven {
                            body: message.body,
                            group: Some(name.to_string()),
                        });
                    }
                    continue;
                }
                let receipt = self.next.receipt();
                message.receive_count += 1;
                message.visible_at = hidden_until;
                message.held = false;
                if let Some(stale) = message.receipt.replace(receipt.clone()) {
                    self.by_receipt.remove(&stale);
                }
                taken.messages.push(QueueMessage {
                    message_id: message.id.clone(),
                    receipt_handle: receipt.clone(),
                    body: message.body.clone(),
                    receive_count: message.receive_count,
                });
                self.by_receipt.insert(receipt, seq);
                group.in_flight.insert((hidden_until, seq));
            }
            served.push(name);
        }
        // Indexed again only now: with a zero visibility timeout a group served here would
        // otherwise come up again in this same receive.
        for name in served {
            self.reindex(&name);
        }
        taken
    }

    /// Deletes a received message; false if the handle is stale (received again since).
    /// Returns whether its group has messages available now (so a consumer may be woken).
    pub(super) fn delete(&mut self, receipt_handle: &str, now: DateTime<Utc>) -> (bool, bool) {
        let Some(seq) = self.by_receipt.remove(receipt_handle) else {
            return (false, false);
        };
        let Some(message) = self.messages.remove(&seq) else {
            return (false, false);
        };
        if let Some(group) = self.groups.get_mut(&message.group) {
            group.queued.remove(&seq);
            group.in_flight.remove(&(message.visible_at, seq));
        }
        let key = self.reindex(&message.group);
        (true, key.is_some_and(|(at, _)| at <= now))
    }

    /// Keeps a message in flight until `at` (visible again then); false if the handle is
    /// stale or the message is no longer in flight (SQS's `MessageNotInflight`): holding it
    /// then would block a group it no longer blocks.
    pub(super) fn change_visibility(
        &mut self,
        receipt_handle: &str,
        now: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(&seq) = self.by_receipt.get(receipt_handle) else {
            return false;
        };
        let Some(message) = self.messages.get_mut(&seq) else {
            return false;
        };
        if message.visible_at <= now {
            return false;
        }
        let Some(group) = self.groups.get_mut(&message.group) else {
            return false;
        };
        group.in_flight.remove(&(message.visible_at, seq));
        group.in_flight.insert((at, seq));
        message.visible_at = at;
        message.held = true;
        let name = message.group.clone();
        self.reindex(&name);
        true
    }

    /// Ends the hold on every held message whose body `matches`: visible at `now`, its
    /// group with it (in order, as ever); how many.
    pub(super) fn bring_forward(
        &mut self,
        now: DateTime<Utc>,
        matches: &dyn Fn(&str) -> bool,
    ) -> usize {
        let mut touched = Vec::new();
        for (&seq, message) in &mut self.messages {
            if !(message.held && message.visible_at > now && matches(&message.body)) {
                continue;
            }
            if let Some(group) = self.groups.get_mut(&message.group) {
                group.in_flight.remove(&(message.visible_at, seq));
                group.in_flight.insert((now, seq));
            }
            message.visible_at = now;
            touched.push(message.group.clone());
        }
        let moved = touched.len();
        for name in touched {
            self.reindex(&name);
        }
        moved
    }

    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    /// Groups whose next message can be taken at `now`.
    pub(super) fn ready(&self, now: DateTime<Utc>) -> usize {
        self.available
            .iter()
            .take_while(|&&(at, _)| at <= now)
            .count()
    }

    /// When the next group becomes available (possibly already past).
    pub(super) fn next_visible_at(&self) -> Option<DateTime<Utc>> {
        self.available.first().map(|&(at, _)| at)
    }

    /// Puts a group back in the index after its head or what blocks it changed, or drops
    /// it once empty; returns its new key.
    fn reindex(&mut self, name: &str) -> Option<(DateTime<Utc>, u64)> {
        let group = self.groups.get_mut(name)?;
        if let Some(key) = group.key.take() {
            self.available.remove(&key);
        }
        let Some(&head) = group.queued.first() else {
            self.groups.remove(name);
            return None;
        };
        let head_at = self.messages.get(&head).map(|m| m.visible_at)?;
        let blocked_until = group.in_flight.last().map(|&(at, _)| at);
        let key = (blocked_until.map_or(head_at, |at| at.max(head_at)), head);
        group.key = Some(key);
        self.available.insert(key);
        Some(key)
    }
}
