//! SQS FIFO's deduplication: an id sent to a group within the last five minutes is
//! accepted and dropped (`DeduplicationScope=messageGroup`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::delivery::later;

/// How long SQS remembers a deduplication id after the first send with it.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);

/// A deduplication id within its group (`DeduplicationScope=messageGroup`).
type DedupKey = (Arc<str>, String);

/// Deduplication ids by group, with when each was first sent, forgotten after the window.
#[derive(Debug, Default)]
pub(super) struct Dedup {
    first_sent: HashMap<DedupKey, DateTime<Utc>>,
    /// The same entries in the order sent, for forgetting them without a scan.
    order: VecDeque<(DateTime<Utc>, DedupKey)>,
}

impl Dedup {
    /// Whether a send of `id` to `group` at `now` is new (and remember it if so).
    pub(super) fn admit(&mut self, group: &str, id: &str, now: DateTime<Utc>) -> bool {
        while let Some((sent, key)) = self.order.front() {
            if later(*sent, DEDUP_WINDOW) > now {
                break;
            }
            // Only if not sent again since (then a later entry stands for it).
            if self.first_sent.get(key) == Some(sent) {
                self.first_sent.remove(key);
            }
            self.order.pop_front();
        }
        let key = (Arc::<str>::from(group), id.to_owned());
        if let Some(&sent) = self.first_sent.get(&key) {
            if later(sent, DEDUP_WINDOW) > now {
                return false;
            }
        }
        self.first_sent.insert(key.clone(), now);
        self.order.push_back((now, key));
        true
    }
}
