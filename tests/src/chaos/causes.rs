//! What the harness does to the workers' own calls, and the count of everything it did
//! that may make a delivery go out more than once: the worker's re-enqueues and dead
//! letters refused now and then, and the requests a receiver was to answer 2xx whose answer
//! the worker never read — each counted per endpoint, for the bounds in the tally.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use authhooks::domain::delivery::DeadLetter;
use authhooks::domain::ids::EndpointId;
use authhooks::domain::outcome::AttemptResult;
use authhooks::domain::signature::{HEADER_WEBHOOK_ATTEMPT, HEADER_WEBHOOK_ID};
use authhooks::ports::{
    DeadLetterQueue, DeliveryQueue, Enqueue, OutgoingRequest, PortError, SendReport, Sender,
};

use super::faults::{mix, unit, Behaviour};
use super::DEAD_ATTEMPTS;

/// Per endpoint: the harness's doings that may send one of its deliveries again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Causes {
    /// Jobs the duplicating queue sent twice.
    pub queued_twice: u64,
    /// Deliveries a re-posted event may have enqueued a second time.
    pub reposted: u64,
    /// Messages in the hands of a worker when it was killed.
    pub killed_in_hand: u64,
    /// Messages a worker held past the visibility timeout (the queue handed them out again).
    pub overdue_in_hand: u64,
    /// Requests its receiver was to answer 2xx that the worker saw fail (a slow body past
    /// the timeout, say): the receiver counted a delivery the worker knows nothing of.
    pub unread_success: u64,
    /// Jobs in a worker's re-enqueue call that the harness refused.
    pub enqueue_refused: u64,
    /// Dead letters in a worker's dead-letter call that the harness refused.
    pub dead_letter_refused: u64,
    /// Messages a worker sent a request for and then left on the queue (a refused
    /// re-enqueue or dead letter): each is sent once more when redelivered.
    pub sent_then_left: u64,
}

impl Causes {
    pub fn plus(mut self, c: &Causes) -> Causes {
        self.queued_twice += c.queued_twice;
        self.reposted += c.reposted;
        self.killed_in_hand += c.killed_in_hand;
        self.overdue_in_hand += c.overdue_in_hand;
        self.unread_success += c.unread_success;
        self.enqueue_refused += c.enqueue_refused;
        self.dead_letter_refused += c.dead_letter_refused;
        self.sent_then_left += c.sent_then_left;
        self
    }
}

/// Why a delivery reaches its receiver with a 2xx more than once, and so the bound.
///
/// A worker sends a delivery only under a claim on it: no claim is granted while another
/// live one has the same or a later attempt, nor at all once the delivery is completed.
/// A worker that reads a 2xx completes the delivery and acknowledges its message, which
/// ends that chain of messages (a job, its retries and deferrals, each re-enqueued before
/// the last is acknowledged). So each chain makes at most one 2xx the worker reads and
/// acts on, and every 2xx beyond a delivery's first needs one of these, each of which
/// explains at most one:
/// - a 2xx the worker never read (`unread_success`: a slow body past the timeout);
/// - a worker killed between reading a 2xx and completing (`killed_in_hand`), its message
///   redelivered after the lease lapsed;
/// - a second chain, which alone can claim while the first is in flight (at a later
///   attempt) or between its send and its completion (after a lapsed lease): a job
///   queued twice (`queued_twice`), a re-post that enqueued it again (`reposted`), a
///   killed worker's message whose follow-up was already enqueued (`killed_in_hand` —
///   one message is either this or the case above, never both: a message whose 2xx was
///   read enqueues nothing), a message handed out again while still in a worker's hand
///   (`overdue_in_hand`).
///
/// Refused re-enqueues and dead letters are not among them: the message stays as the
/// same chain, nothing else was enqueued, and a 2xx read is never followed by either.
pub fn duplicates_bound(c: &Causes) -> u64 {
    c.unread_success + c.killed_in_hand + c.queued_twice + c.reposted + c.overdue_in_hand
}

/// The dead endpoint's requests: each chain of messages sends each of the schedule's
/// [`DEAD_ATTEMPTS`] at most once (a message sends its attempt, then enqueues the next
/// or dead-letters). Chains are the owed deliveries plus the extra chains above — a
/// killed worker's message counted as a whole chain covers its re-send of one attempt.
/// A message sent and then left on the queue (its re-enqueue or dead letter refused) is
/// sent once more when redelivered, its claim released or lapsed by then; refused calls
/// for deferred jobs, which sent nothing, add nothing.
pub fn dead_requests_bound(expected: usize, c: &Causes) -> u64 {
    let chains =
        expected as u64 + c.queued_twice + c.reposted + c.killed_in_hand + c.overdue_in_hand;
    DEAD_ATTEMPTS * chains + c.sent_then_left
}

/// The causes, per endpoint, noted as they happen.
#[derive(Debug, Default)]
pub struct CauseLog {
    by_endpoint: Mutex<HashMap<EndpointId, Causes>>,
}

impl CauseLog {
    pub fn note(&self, endpoint: &EndpointId, what: impl FnOnce(&mut Causes)) {
        let mut all = self
            .by_endpoint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        what(all.entry(endpoint.clone()).or_default());
    }

    pub fn snapshot(&self) -> HashMap<EndpointId, Causes> {
        self.by_endpoint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A seeded coin for refusing calls: the n-th call fails if its draw falls under `rate`.
struct Coin {
    rate: f64,
    seed: u64,
    draws: AtomicU64,
    refused: AtomicU64,
}

impl Coin {
    fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate,
            seed,
            draws: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    fn refuse(&self) -> bool {
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        let refuse = unit(mix(draw ^ self.seed)) < self.rate;
        if refuse {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        refuse
    }
}

/// The deliveries queue as the workers see it (ingest has its own handle): a share of
/// their re-enqueue calls fail before anything is sent, so the worker must leave those
/// messages on the queue.
pub struct RefusingQueue {
    inner: Arc<dyn DeliveryQueue>,
    coin: Coin,
    causes: Arc<CauseLog>,
}

impl RefusingQueue {
    pub fn new(inner: Arc<dyn DeliveryQueue>, rate: f64, seed: u64, causes: Arc<CauseLog>) -> Self {
        Self {
            inner,
            coin: Coin::new(rate, seed.rotate_left(11) ^ 0xE7),
            causes,
        }
    }

    /// Calls refused so far.
    pub fn refused(&self) -> u64 {
        self.coin.refused.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl DeliveryQueue for RefusingQueue {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        if self.coin.refuse() {
            for e in &jobs {
                self.causes
                    .note(&e.job.endpoint_id, |c| c.enqueue_refused += 1);
            }
            return Err(PortError::Unavailable("chaos: re-enqueue refused".into()));
        }
        self.inner.enqueue(jobs).await
    }
}

/// The DLQ as the workers see it: a share of their dead-letter calls fail.
pub struct RefusingDeadLetters {
    inner: Arc<dyn DeadLetterQueue>,
    coin: Coin,
    causes: Arc<CauseLog>,
}

impl RefusingDeadLetters {
    pub fn new(
        inner: Arc<dyn DeadLetterQueue>,
        rate: f64,
        seed: u64,
        causes: Arc<CauseLog>,
    ) -> Self {
        Self {
            inner,
            coin: Coin::new(rate, seed.rotate_left(37) ^ 0xD1),
            causes,
        }
    }

    pub fn refused(&self) -> u64 {
        self.coin.refused.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl DeadLetterQueue for RefusingDeadLetters {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        if self.coin.refuse() {
            for l in &letters {
                self.causes
                    .note(&l.job.endpoint_id, |c| c.dead_letter_refused += 1);
            }
            return Err(PortError::Unavailable("chaos: dead letter refused".into()));
        }
        self.inner.dead_letter(letters).await
    }
}

/// The workers' sender, which notes every request the receiver was to answer 2xx (by the
/// same fault plan) but whose answer the worker did not get as a 2xx.
pub struct ReadingSender {
    inner: Arc<dyn Sender>,
    /// By URL: the endpoint and how its receiver behaves.
    plans: HashMap<String, (EndpointId, Behaviour)>,
    causes: Arc<CauseLog>,
}

impl ReadingSender {
    pub fn new(
        inner: Arc<dyn Sender>,
        plans: HashMap<String, (EndpointId, Behaviour)>,
        causes: Arc<CauseLog>,
    ) -> Self {
        Self {
            inner,
            plans,
            causes,
        }
    }
}

#[async_trait]
impl Sender for ReadingSender {
    async fn send(&self, request: OutgoingRequest) -> SendReport {
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (id, attempt) = (header(HEADER_WEBHOOK_ID), header(HEADER_WEBHOOK_ATTEMPT));
        let plan = self.plans.get(&request.url).cloned();
        let report = self.inner.send(request).await;
        let read_2xx = matches!(
            report.result,
            AttemptResult::Response { status, .. } if (200..300).contains(&status)
        );
        if let Some((endpoint, behaviour)) = plan {
            let attempt = attempt.parse().unwrap_or(1);
            if !read_2xx && behaviour.decide(&id, attempt).is_success() {
                self.causes.note(&endpoint, |c| c.unread_success += 1);
            }
        }
        report
    }
}
