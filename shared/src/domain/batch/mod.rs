//! Batched delivery (docs/architecture.md §3.15): an endpoint that opts in receives up to
//! `max_events` events in one POST, `{"events": [...]}`, signed once under a batch id. Here:
//! the setting, the batch's id and body, how an endpoint's jobs are packed into POSTs, and
//! how long fresh jobs wait for company.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::delivery::{later, DeliveryJob};
use super::ids::{DeliveryId, EndpointId};
use super::validation::{field_path, FieldError};

pub const MIN_EVENTS: u32 = 2;
pub const MAX_EVENTS: u32 = 100;
/// A wait longer than five minutes would make a quiet endpoint hear of a revocation that
/// late; a receiver that wants fewer requests than that should be polled instead.
pub const MAX_WAIT_MS: u64 = 300_000;
pub const DEFAULT_WAIT_MS: u64 = 1_000;
/// The most bytes of events one POST carries (a job is at most 256 KiB, so one always
/// fits); events past it go in the next POST.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The shortest wait between two looks at jobs waiting for company.
pub const MIN_LOOK: Duration = Duration::from_millis(10);
/// The most bytes of jobs one queue message carries (SQS takes 256 KiB; the rest is room
/// for its attributes). A job bigger than this travels alone.
pub const MAX_CARRIED_BYTES: usize = 192 * 1024;
/// `webhook-id` prefix of a batch.
pub const ID_PREFIX: &str = "bat_";
/// The event type a batch is signed with where a scheme sends one (`x-webhook-event`).
pub const EVENT_TYPE: &str = "batch";

/// An endpoint's batching: at most `max_events` events per POST, and a fresh event waits
/// at most `max_wait_ms` for others to join it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    pub max_events: u32,
    #[serde(default = "default_wait")]
    pub max_wait_ms: u64,
}

fn default_wait() -> u64 {
    DEFAULT_WAIT_MS
}

impl Batching {
    /// Every rule the setting breaks, with paths under `field`.
    pub fn validate(&self, field: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !(MIN_EVENTS..=MAX_EVENTS).contains(&self.max_events) {
            errors.push(FieldError::new(
                field_path(field, "max_events"),
                format!("must be between {MIN_EVENTS} and {MAX_EVENTS}"),
            ));
        }
        if self.max_wait_ms > MAX_WAIT_MS {
            errors.push(FieldError::new(
                field_path(field, "max_wait_ms"),
                format!("must be between 0 and {MAX_WAIT_MS}"),
            ));
        }
        errors
    }

    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.max_wait_ms)
    }

    fn capacity(&self) -> usize {
        usize::try_from(self.max_events)
            .unwrap_or(usize::MAX)
            .max(1)
    }

    /// When a share of `jobs` that would make an under-full POST should be looked at again,
    /// if it should wait for company at all: only while every job is fresh and the oldest
    /// one's acceptance plus the wait is still ahead. A job that was attempted, replayed or
    /// carried forward has waited already, and a job from before `sequence` has no
    /// acceptance time: those go at once, and take the rest with them.
    ///
    /// The next look is halfway to that deadline (at least [`MIN_LOOK`] ahead, never past
    /// it), so jobs waiting in different messages come back while they may still wait, meet
    /// and merge, instead of each going out alone at its deadline.
    pub fn wait_for_more(
        &self,
        jobs: &[&DeliveryJob],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if jobs.is_empty() || jobs.len() >= self.capacity() {
            return None;
        }
        let mut oldest: Option<DateTime<Utc>> = None;
        for job in jobs {
            let fresh = job.attempts == 0 && job.generation == 0 && job.not_before.is_none();
            let accepted = job.event.sequence.and_then(accepted_at).filter(|_| fresh)?;
            oldest = Some(oldest.map_or(accepted, |o| o.min(accepted)));
        }
        let due = later(oldest?, self.max_wait());
        let left = (due - now).to_std().ok().filter(|left| !left.is_zero())?;
        Some(later(now, (left / 2).max(MIN_LOOK)).min(due))
    }

    /// Packs an endpoint's lines (an ordered subject's jobs in order; an unordered job is a
    /// line of one) into POSTs of at most `max_events` jobs and [`MAX_BODY_BYTES`] of
    /// events, `size` giving a job's bytes. A line is never split across POSTs, which are
    /// sent side by side: what of a line does not fit in one is left over, to go back to
    /// its queue behind the part that went. Returns the POSTs and the left-overs.
    pub fn pack<T>(&self, lines: Vec<Vec<T>>, size: impl Fn(&T) -> usize) -> (Vec<Vec<T>>, Vec<T>) {
        let capacity = self.capacity();
        let mut posts: Vec<Vec<T>> = Vec::new();
        let mut current: Vec<T> = Vec::new();
        let mut bytes = 0usize;
        let mut left = Vec::new();
        for line in lines {
            let line_bytes: usize = line.iter().map(&size).sum();
            let fits =
                current.len() + line.len() <= capacity && bytes + line_bytes <= MAX_BODY_BYTES;
            if !fits && !current.is_empty() {
                posts.push(std::mem::take(&mut current));
                bytes = 0;
            }
            // Once one job of a line is left over, so is everything behind it.
            let mut cut = false;
            for job in line {
                let n = size(&job);
                // The first job of a POST always goes in: one job is never too big for it.
                cut = cut
                    || !(current.is_empty()
                        || (current.len() < capacity && bytes + n <= MAX_BODY_BYTES));
                if cut {
                    left.push(job);
                } else {
                    bytes += n;
                    current.push(job);
                }
            }
        }
        if !current.is_empty() {
            posts.push(current);
        }
        (posts, left)
    }
}

/// Jobs as they leave ingest: a batching endpoint's unordered ones put together, up to its
/// `max_events` a message, so a submission of many events travels (and is sent) as few
/// batches rather than as many messages that must meet on the queue; every other job as
/// it is. `batching`: the endpoint's setting, if it batches.
pub fn together_at_ingest(
    jobs: Vec<DeliveryJob>,
    batching: impl Fn(&EndpointId) -> Option<Batching>,
) -> Vec<DeliveryJob> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut groups: Vec<(EndpointId, usize, Vec<DeliveryJob>)> = Vec::new();
    for job in jobs {
        let Some(capacity) = batching(&job.endpoint_id)
            .filter(|_| job.order_key.is_none())
            .map(|b| b.capacity())
        else {
            out.push(job);
            continue;
        };
        match groups.iter_mut().find(|(id, _, _)| *id == job.endpoint_id) {
            Some((_, _, group)) => group.push(job),
            None => groups.push((job.endpoint_id.clone(), capacity, vec![job])),
        }
    }
    for (_, capacity, group) in groups {
        let mut group = group.into_iter().peekable();
        while group.peek().is_some() {
            let chunk: Vec<DeliveryJob> = group.by_ref().take(capacity).collect();
            out.extend(DeliveryJob::carried(chunk, carried_size, MAX_CARRIED_BYTES));
        }
    }
    out
}

/// A job's bytes in a message; one that cannot be measured travels alone.
pub fn carried_size(job: &DeliveryJob) -> usize {
    serde_json::to_vec(job).map_or(MAX_CARRIED_BYTES, |bytes| bytes.len())
}

/// When ingest accepted an event, from its `sequence` (microseconds since the epoch).
pub fn accepted_at(sequence: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(sequence).ok()?)
}

/// A batch's `webhook-id`: derived from its deliveries, so the same deliveries sent
/// together again (a retry of the batch) carry the same id.
pub fn batch_id<'a>(deliveries: impl IntoIterator<Item = &'a DeliveryId>) -> String {
    let mut hash = Sha256::new();
    for id in deliveries {
        hash.update(id.as_str());
        hash.update([0u8]);
    }
    let digest = hash.finalize();
    let mut id = String::with_capacity(ID_PREFIX.len() + 32);
    id.push_str(ID_PREFIX);
    for byte in &digest[..16] {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// The body of a batch: `{"events": [...]}` with each event's delivery body as it is.
pub fn body<'a>(events: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = b"{\"events\":[".to_vec();
    for (n, event) in events.into_iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event);
    }
    body.extend_from_slice(b"]}");
    body
}

#[cfg(test)]
mod tests;
