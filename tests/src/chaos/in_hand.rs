//! What one worker has in hand: the batch from its last receive until the acknowledgement,
//! and which of those messages it has begun to act on — a request started and the
//! delivery not seen completed since, a follow-up enqueued or dead-lettered. Only those
//! can make a delivery go out again once the worker dies (the rest are redelivered and
//! sent once, or found completed), and a batch held past the visibility timeout may have
//! been handed out a second time. A message sent and then left on the queue (its re-enqueue
//! or dead letter refused) is counted at the refusal, by when its delivery was received
//! and its event last requested: local mode's consumer takes the next batch while the
//! last one's shares still run, so the batch in hand is not always the refused one's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use authhooks::domain::delivery::{AttemptRecord, DeadLetter, DeliveryJob, Progress};
use authhooks::domain::ids::DeliveryId;
use authhooks::domain::signature::HEADER_WEBHOOK_ID;
use authhooks::local::pump::WorkerParts;
use authhooks::ports::{
    Claim, ClaimOutcome, DeadLetterQueue, DeliveryQueue, Enqueue, IdempotencyKey, IdempotencyStore,
    OutgoingRequest, PortError, QueueConsumer, QueueMessage, SendReport, Sender,
};

use super::causes::{CauseLog, Causes};
use super::pool::lock;

#[derive(Default)]
struct Held {
    since: Option<Instant>,
    bodies: Vec<String>,
    /// `d:` delivery ids enqueued or dead-lettered, and the idempotency keys of deliveries
    /// seen completed after the worker completed them (requests are in `Seen`).
    touched: HashSet<String>,
}

pub(super) struct InHand {
    held: Mutex<Held>,
    /// Across batches (local mode's consumer takes the next batch while the last one's
    /// shares still run): when each delivery's message was last received, and when each
    /// event was last requested, to tell at a refused call whether its message was sent.
    seen: Mutex<Seen>,
    causes: Arc<CauseLog>,
    visibility: Duration,
}

#[derive(Default)]
struct Seen {
    received: HashMap<DeliveryId, Instant>,
    requested: HashMap<String, Instant>,
}

impl InHand {
    pub(super) fn new(causes: Arc<CauseLog>, visibility: Duration) -> Self {
        Self {
            held: Mutex::new(Held::default()),
            seen: Mutex::new(Seen::default()),
            causes,
            visibility,
        }
    }

    fn touch(&self, key: String) {
        lock(&self.held).touched.insert(key);
    }

    /// The worker was killed: notes every message it had begun to act on (and the whole
    /// batch if it was overdue); whether it held a batch at all.
    pub(super) fn killed(&self) -> bool {
        let held = std::mem::take(&mut *lock(&self.held));
        self.note_overdue(&held);
        let seen = lock(&self.seen);
        for job in jobs(&held.bodies) {
            let key = IdempotencyKey::delivery(&job.delivery_id);
            let requested = seen.requested.get(job.event.id.as_str());
            let sent = held
                .since
                .zip(requested)
                .is_some_and(|(since, at)| *at >= since)
                && !held.touched.contains(key.as_str());
            let begun = sent || held.touched.contains(&format!("d:{}", job.delivery_id));
            if begun {
                self.causes
                    .note(&job.endpoint_id, |c| c.killed_in_hand += 1);
            }
        }
        held.since.is_some()
    }

    /// A share of the batch is acknowledged. If the batch was held past (nearly) the
    /// visibility timeout, the queue may have handed it out again meanwhile.
    fn done(&self) {
        let held = std::mem::take(&mut *lock(&self.held));
        self.note_overdue(&held);
    }

    fn received(&self, bodies: &[String]) {
        let now = Instant::now();
        let mut seen = lock(&self.seen);
        for job in jobs(bodies) {
            seen.received.insert(job.delivery_id, now);
        }
    }

    fn requested(&self, event_id: &str) {
        lock(&self.seen)
            .requested
            .insert(event_id.to_owned(), Instant::now());
    }

    /// The worker's re-enqueue or dead letter of `job` was refused, so its message stays
    /// on the queue: if a request went out for it since it was received, the redelivery
    /// sends it once more. (Counted here, at the refusal, for the message being handled,
    /// whichever batch it came in.)
    fn left(&self, job: &DeliveryJob) {
        let seen = lock(&self.seen);
        let received = seen.received.get(&job.delivery_id);
        let requested = seen.requested.get(job.event.id.as_str());
        if let (Some(received), Some(requested)) = (received, requested) {
            if requested >= received {
                self.causes
                    .note(&job.endpoint_id, |c| c.sent_then_left += 1);
            }
        }
    }

    /// The slack covers the queue's clock being read a moment before this one.
    fn note_overdue(&self, held: &Held) {
        const SLACK: Duration = Duration::from_millis(250);
        if held
            .since
            .is_some_and(|t| t.elapsed() + SLACK >= self.visibility)
        {
            for job in jobs(&held.bodies) {
                self.causes
                    .note(&job.endpoint_id, |c: &mut Causes| c.overdue_in_hand += 1);
            }
        }
    }
}

/// The jobs in `bodies`, parsed only when needed (kills and overdue batches are rare).
fn jobs(bodies: &[String]) -> impl Iterator<Item = DeliveryJob> + '_ {
    bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<DeliveryJob>(b).ok())
}

/// A worker's parts with its inbox, sender and queues reporting to `in_hand`.
pub(super) fn watched(parts: &WorkerParts, in_hand: &Arc<InHand>) -> WorkerParts {
    let mut parts = parts.clone();
    parts.inbox = Arc::new(Watched {
        inner: parts.inbox.clone(),
        in_hand: in_hand.clone(),
    });
    parts.worker.sender = Arc::new(Watched {
        inner: parts.worker.sender.clone(),
        in_hand: in_hand.clone(),
    });
    parts.worker.queue = Arc::new(Watched {
        inner: parts.worker.queue.clone(),
        in_hand: in_hand.clone(),
    });
    parts.worker.dead_letters = Arc::new(Watched {
        inner: parts.worker.dead_letters.clone(),
        in_hand: in_hand.clone(),
    });
    parts.worker.idempotency = Arc::new(Watched {
        inner: parts.worker.idempotency.clone(),
        in_hand: in_hand.clone(),
    });
    parts
}

/// One of a worker's ports, noting in `in_hand` what went through it. Each note of a
/// beginning is taken before the call is awaited, so a worker killed mid-call has it
/// noted; a completion only once it is read back.
struct Watched<T: ?Sized> {
    inner: Arc<T>,
    in_hand: Arc<InHand>,
}

#[async_trait]
impl QueueConsumer for Watched<dyn QueueConsumer> {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, PortError> {
        let got = self.inner.receive(max, wait).await?;
        if !got.is_empty() {
            let bodies: Vec<String> = got.iter().map(|m| m.body.clone()).collect();
            self.in_hand.received(&bodies);
            *lock(&self.in_hand.held) = Held {
                since: Some(Instant::now()),
                bodies: got.iter().map(|m| m.body.clone()).collect(),
                touched: HashSet::new(),
            };
        }
        Ok(got)
    }

    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError> {
        let done = self.inner.delete(receipt_handles).await;
        self.in_hand.done();
        done
    }
}

#[async_trait]
impl Sender for Watched<dyn Sender> {
    async fn send(&self, request: OutgoingRequest) -> SendReport {
        if let Some((_, id)) = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(HEADER_WEBHOOK_ID))
        {
            self.in_hand.requested(id);
        }
        self.inner.send(request).await
    }
}

#[async_trait]
impl DeliveryQueue for Watched<dyn DeliveryQueue> {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        for e in &jobs {
            self.in_hand.touch(format!("d:{}", e.job.delivery_id));
        }
        let refused: Vec<DeliveryJob> = jobs.iter().map(|e| e.job.clone()).collect();
        let done = self.inner.enqueue(jobs).await;
        if done.is_err() {
            refused.iter().for_each(|job| self.in_hand.left(job));
        }
        done
    }
}

#[async_trait]
impl DeadLetterQueue for Watched<dyn DeadLetterQueue> {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        for l in &letters {
            self.in_hand.touch(format!("d:{}", l.job.delivery_id));
        }
        let refused: Vec<DeliveryJob> = letters.iter().map(|l| l.job.clone()).collect();
        let done = self.inner.dead_letter(letters).await;
        if done.is_err() {
            refused.iter().for_each(|job| self.in_hand.left(job));
        }
        done
    }
}

#[async_trait]
impl IdempotencyStore for Watched<dyn IdempotencyStore> {
    async fn claim(&self, key: &IdempotencyKey, claim: &Claim) -> Result<ClaimOutcome, PortError> {
        self.inner.claim(key, claim).await
    }

    /// Noted only if the record reads completed afterwards: a completion by a superseded
    /// claim changes nothing, and its message's redelivery may send again.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: u64,
        history: &[AttemptRecord],
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PortError> {
        self.inner.complete(key, token, history, expires_at).await?;
        let read = self
            .inner
            .peek_many(std::slice::from_ref(key), chrono::Utc::now())
            .await;
        if let Ok([Some(ClaimOutcome::Completed { .. })]) = read.as_deref() {
            self.in_hand.touch(key.as_str().to_owned());
        }
        Ok(())
    }

    async fn release(&self, key: &IdempotencyKey, token: u64) -> Result<(), PortError> {
        self.inner.release(key, token).await
    }

    async fn pause(
        &self,
        key: &IdempotencyKey,
        token: u64,
        progress: &Progress,
    ) -> Result<(), PortError> {
        self.inner.pause(key, token, progress).await
    }

    async fn peek_many(
        &self,
        keys: &[IdempotencyKey],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Option<ClaimOutcome>>, PortError> {
        self.inner.peek_many(keys, now).await
    }
}
