//! Delivery jobs (one per event and endpoint), their attempt history, the records of
//! deliveries given up on, and how a delay maps onto SQS's 900-second limit.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::Event;
use super::ids::{DeliveryId, EndpointId, EventId};
use super::order::OrderKey;
use super::outcome::{AttemptResult, FailureReason, TransportFailure};

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
        }
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

/// `now + wait`, saturating at the end of representable time instead of overflowing.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
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

/// A delivery given up on, as the dlq function records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The delivery id and generation: the same dead letter recorded twice is one record,
    /// a replay that fails again is a new one.
    pub id: String,
    pub event_id: EventId,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub reason: FailureReason,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub failed_at: DateTime<Utc>,
    /// Set once replayed, so an operator sees what was already retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
    /// Set for an ordered delivery: its line did not wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<OrderedFailure>,
    /// The job itself, for replay and for the full attempt history.
    pub job: DeliveryJob,
}

/// What an ordered delivery's failure tells an operator: which subject it was, where it
/// stood in the subject's order, and that the subject's later deliveries went on to the
/// endpoint after it was given up (a line waits for a delivery, never for a failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedFailure {
    pub subject: String,
    pub sequence: Option<u64>,
    pub note: String,
}

impl OrderedFailure {
    fn of(job: &DeliveryJob) -> Option<Self> {
        job.order_key.as_ref()?;
        let subject = job.event.subject.clone()?;
        Some(Self {
            note: format!(
                "ordered by subject: later deliveries of {} were sent after this one was \
                 given up; a replay arrives after them, with its original sequence, so a \
                 receiver that checks sequences drops it if it is stale",
                serde_json::Value::String(subject.clone())
            ),
            sequence: job.event.sequence,
            subject,
        })
    }
}

impl FailureRecord {
    pub fn id_for(job: &DeliveryJob) -> String {
        Self::id_of(&job.delivery_id, job.generation)
    }

    pub fn id_of(delivery: &DeliveryId, generation: u32) -> String {
        format!("{delivery}.{generation}")
    }

    pub fn new(job: DeliveryJob, reason: FailureReason, failed_at: DateTime<Utc>) -> Self {
        let last = job.history.last();
        Self {
            id: Self::id_for(&job),
            event_id: job.event.id.clone(),
            endpoint_id: job.endpoint_id.clone(),
            event_type: job.event.event_type.to_string(),
            reason,
            attempts: job.attempts,
            last_status: last.and_then(|a| a.status),
            last_error: last.and_then(|a| a.error.clone()),
            first_attempt_at: job.first_attempt_at,
            failed_at,
            replayed_at: None,
            ordered: OrderedFailure::of(&job),
            job,
        }
    }
}

/// A job on its way to the dead-letter queue, with the reason it was given up on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub reason: FailureReason,
    pub job: DeliveryJob,
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn job() -> DeliveryJob {
        let event: Event = serde_json::from_value(serde_json::json!({
            "id": "evt_1", "type": "user.created", "timestamp": "2026-11-22T10:00:00Z", "data": {}
        }))
        .unwrap();
        DeliveryJob::new(event, EndpointId::parse("ep_1").unwrap())
    }

    fn record(attempt: u32, at: i64) -> AttemptRecord {
        AttemptRecord::from_result(
            attempt,
            &AttemptResult::Response {
                status: 500,
                retry_after: None,
                snippet: Some("oops".into()),
            },
            Duration::from_millis(12),
            t(at),
        )
    }

    #[test]
    fn short_delays_are_whole_seconds_rounded_up() {
        assert_eq!(schedule(t(0), t(0)), (Duration::ZERO, None));
        let due = t(4) + chrono::Duration::milliseconds(300);
        assert_eq!(schedule(due, t(0)), (Duration::from_secs(5), None));
        assert_eq!(schedule(t(-5), t(0)), (Duration::ZERO, None));
    }

    #[test]
    fn long_delays_hop_with_not_before() {
        assert_eq!(schedule(t(900), t(0)), (MAX_QUEUE_DELAY, None));
        assert_eq!(schedule(t(3600), t(0)), (MAX_QUEUE_DELAY, Some(t(3600))));
    }

    #[test]
    fn attempts_are_recorded_and_history_is_capped() {
        let mut j = job();
        for n in 1..=15 {
            j = j.after_attempt(record(n, i64::from(n)));
        }
        assert_eq!(j.attempts, 15);
        assert_eq!(j.first_attempt_at, Some(t(1)));
        assert_eq!(j.history.len(), MAX_HISTORY);
        assert_eq!(j.history.last().map(|r| r.attempt), Some(15));
        assert_eq!(j.history[0].status, Some(500));
    }

    #[test]
    fn claim_tokens_order_attempts_and_replays() {
        let first = job();
        let second = first.after_attempt(record(1, 0));
        let replay = second.replayed();
        assert!(first.claim_token() < second.claim_token());
        assert!(second.claim_token() < replay.claim_token());
        assert_eq!(replay.attempts, 0);
        assert_ne!(
            FailureRecord::id_for(&second),
            FailureRecord::id_for(&replay)
        );
    }

    #[test]
    fn failure_records_carry_the_last_attempt() {
        let j = job()
            .after_attempt(record(1, 0))
            .after_attempt(AttemptRecord::from_result(
                2,
                &AttemptResult::Transport(TransportFailure::Timeout),
                Duration::from_secs(15),
                t(5),
            ));
        let failure = FailureRecord::new(j, FailureReason::Exhausted, t(6));
        assert_eq!(failure.attempts, 2);
        assert_eq!(failure.last_status, None);
        assert_eq!(failure.last_error.as_deref(), Some("timeout"));
        assert_eq!(failure.first_attempt_at, Some(t(0)));
        assert_eq!(failure.event_type, "user.created");
    }

    #[test]
    fn progress_resumes_only_its_own_generation() {
        let fresh = job();
        let mut tried = fresh
            .after_attempt(record(1, 0))
            .after_attempt(record(2, 5));
        tried.not_before = Some(t(60));
        let resumed = fresh.clone().resumed(tried.progress());
        assert_eq!(resumed, tried);
        assert_eq!(resumed.claim_token(), tried.claim_token());
        // A replay starts over whatever an earlier generation left.
        let replay = tried.replayed();
        assert_eq!(replay.clone().resumed(tried.progress()), replay);
        // Progress behind the job (a stale record) changes nothing.
        assert_eq!(tried.clone().resumed(fresh.progress()), tried);
    }

    #[test]
    fn snippets_are_short_and_lossy() {
        assert_eq!(snippet(b""), None);
        assert_eq!(snippet(&[0xff, b'a']).as_deref(), Some("\u{fffd}a"));
        assert_eq!(
            snippet(&[b'x'; 1000]).map(|s| s.len()),
            Some(MAX_SNIPPET_CHARS)
        );
    }

    #[test]
    fn later_saturates() {
        assert_eq!(later(t(0), Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
