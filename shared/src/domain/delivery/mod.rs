//! Delivery jobs (one per event and endpoint), their attempt history, the records of
//! deliveries given up on, and how a delay maps onto SQS's 900-second limit.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::Event;
use super::ids::{DeliveryId, EndpointId};
use super::order::OrderKey;
use super::outcome::{AttemptResult, TransportFailure};
use super::trace::TraceParent;

mod failure;
mod placement;
pub use super::time::later;
pub use failure::{DeadLetter, FailureRecord, OrderedFailure};
pub use placement::placement;

/// SQS refuses `DelaySeconds` above 15 minutes; longer waits hop through `not_before`.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);

/// Attempts kept in a job (and so in its failure record); older ones are summarized by
/// `attempts`, which keeps the message well under the queue's size limit.
pub const MAX_HISTORY: usize = 10;

/// Response bodies are kept only this far, enough to see an error message.
pub const MAX_SNIPPET_CHARS: usize = 256;

/// One HTTP attempt as recorded for operators (`GET /v1/events/{id}/attempts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl AttemptRecord {
    /// The record of attempt number `attempt`, from what the sender saw.
    pub fn from_result(
        attempt: u32,
        result: &AttemptResult,
        latency: Duration,
        at: DateTime<Utc>,
    ) -> Self {
        let (status, error, snippet) = match result {
            AttemptResult::Response {
                status, snippet, ..
            } => (Some(*status), None, snippet.clone()),
            AttemptResult::Transport(failure) => (None, Some(describe(failure)), None),
        };
        Self {
            attempt,
            status,
            error,
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            at,
            snippet,
        }
    }
}

fn describe(failure: &TransportFailure) -> String {
    match failure {
        TransportFailure::Timeout => "timeout".to_owned(),
        TransportFailure::Connect(detail) => format!("connect: {detail}"),
        TransportFailure::Reset(detail) => format!("connection broken: {detail}"),
        TransportFailure::Forbidden(detail) => format!("forbidden destination: {detail}"),
        TransportFailure::Other(detail) => detail.clone(),
    }
}

/// The unit of work on the deliveries queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub event: Event,
    /// Attempts made so far (deferrals by circuit or rate limit do not count).
    pub attempts: u32,
    /// Bumped by each replay, so a replayed delivery gets a fresh idempotency claim.
    #[serde(default)]
    pub generation: u32,
    /// Not to be attempted before this time: set when a delay exceeds the queue's maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<AttemptRecord>,
    /// Set for an ordered delivery: the line it waits in (its endpoint and subject). Such a
    /// job travels on the ordered (FIFO) queue and is never re-enqueued: a retry holds its
    /// message in place, and its attempts live in its claim ([`Progress`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_key: Option<OrderKey>,
    /// The producer's trace context from ingest: each attempt continues it (its span's
    /// parent, and the `traceparent` it sends). Absent in jobs queued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceParent>,
    /// Jobs of the same endpoint travelling in this job's message, to go in one POST with
    /// it (a batching endpoint's, docs/architecture.md §3.15): jobs that waited for company
    /// together, or a batch going back for its retry. Never nested; an ordered job never
    /// carries any (its FIFO message cannot be rewritten).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gathered: Vec<DeliveryJob>,
}

/// An ordered delivery's attempts so far, kept with its claim between receives: its message
/// waits on a FIFO queue unchanged, so the job in it always says "no attempt yet".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The replay generation these attempts belong to; a replay starts over.
    pub generation: u32,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<AttemptRecord>,
    /// The next attempt is not due before this (a wait longer than one hold of the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
}

impl DeliveryJob {
    pub fn new(event: Event, endpoint_id: EndpointId) -> Self {
        Self {
            delivery_id: DeliveryId::derive(&event.id, &endpoint_id),
            endpoint_id,
            event,
            attempts: 0,
            generation: 0,
            not_before: None,
            first_attempt_at: None,
            history: Vec::new(),
            order_key: None,
            trace: None,
            gathered: Vec::new(),
        }
    }

    /// This job and the jobs it carries, each on its own.
    pub fn unpack(mut self) -> Vec<DeliveryJob> {
        let mut jobs = Vec::with_capacity(1 + self.gathered.len());
        let gathered = std::mem::take(&mut self.gathered);
        jobs.push(self);
        for job in gathered {
            jobs.extend(job.unpack());
        }
        jobs
    }

    /// `jobs` in as few messages as fit under `max_bytes` each (`size`: a job's serialized
    /// bytes), each message's first job carrying the rest.
    pub fn carried(
        jobs: Vec<DeliveryJob>,
        size: impl Fn(&DeliveryJob) -> usize,
        max_bytes: usize,
    ) -> Vec<DeliveryJob> {
        let mut messages: Vec<DeliveryJob> = Vec::new();
        let mut bytes = 0usize;
        for job in jobs.into_iter().flat_map(DeliveryJob::unpack) {
            let n = size(&job);
            match messages.last_mut() {
                Some(head) if bytes + n <= max_bytes => {
                    bytes += n;
                    head.gathered.push(job);
                }
                _ => {
                    bytes = n;
                    messages.push(job);
                }
            }
        }
        messages
    }

    /// What to keep with the claim when this job's message is held for a later attempt.
    pub fn progress(&self) -> Progress {
        Progress {
            generation: self.generation,
            attempts: self.attempts,
            first_attempt_at: self.first_attempt_at,
            history: self.history.clone(),
            not_before: self.not_before,
        }
    }

    /// The job with the attempts a claim kept for it, if they belong to this generation and
    /// are further along than the job itself.
    pub fn resumed(mut self, progress: Progress) -> Self {
        if progress.generation == self.generation && progress.attempts >= self.attempts {
            self.attempts = progress.attempts;
            self.first_attempt_at = progress.first_attempt_at;
            self.history = progress.history;
            self.not_before = progress.not_before;
        }
        self
    }

    /// Orders claims on the delivery's idempotency key: a later attempt or a replay
    /// supersedes an earlier claim, a copy of the same attempt does not.
    pub fn claim_token(&self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.attempts)
    }

    /// The job after one more attempt, with the attempt recorded.
    pub fn after_attempt(&self, record: AttemptRecord) -> Self {
        let mut next = self.clone();
        next.attempts = record.attempt;
        next.first_attempt_at.get_or_insert(record.at);
        next.not_before = None;
        next.history.push(record);
        if next.history.len() > MAX_HISTORY {
            let excess = next.history.len() - MAX_HISTORY;
            next.history.drain(..excess);
        }
        next
    }

    /// A fresh copy for a replay: attempts start over under a new generation.
    pub fn replayed(&self) -> Self {
        let mut next = self.clone();
        next.attempts = 0;
        next.generation = self.generation.saturating_add(1);
        next.not_before = None;
        next.first_attempt_at = None;
        next.history.clear();
        next
    }
}

/// How to enqueue a job that should run at `due`: the queue delay to use now, and the
/// `not_before` to carry when `due` lies beyond the queue's maximum delay.
pub fn schedule(due: DateTime<Utc>, now: DateTime<Utc>) -> (Duration, Option<DateTime<Utc>>) {
    let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
    if wait > MAX_QUEUE_DELAY {
        (MAX_QUEUE_DELAY, Some(due))
    } else {
        // Whole seconds, rounded up, so a job never arrives before it is due.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        (Duration::from_secs(secs), None)
    }
}

/// Cuts a response body to a short, printable snippet.
pub fn snippet(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    Some(text.chars().take(MAX_SNIPPET_CHARS).collect())
}

#[cfg(test)]
mod tests;
