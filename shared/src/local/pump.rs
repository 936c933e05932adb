//! The consumers local mode runs in place of Lambda's SQS event sources: take a batch,
//! run the use case, delete what it acknowledged. A worker consumer hands each endpoint's
//! share of a batch to a task of its own and takes the next batch at once, so a receiver
//! that never answers holds only its own messages, not everyone's; a share first waits a
//! moment for its endpoint's slots (`gates`), so a busy endpoint's jobs are not deferred
//! while its attempts are ending by the millisecond. A stop signal lets the
//! work in hand finish, so Ctrl-C drains in-flight deliveries instead of cutting them off.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use serde::de::DeserializeOwned;

use super::gates::Gates;
use crate::adapters::memory::MemoryStateStore;
use crate::app::{Recorder, Worker};
use crate::domain::fanout::Work;
use crate::domain::ids::EndpointId;
use crate::ports::{Clock, QueueConsumer, QueueMessage, Received, SystemClock};

/// How long an idle consumer waits before checking the stop signal again.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// Messages one worker consumer may have in hand at once; past it, the consumer waits for
/// room. A hanging attempt pins its share of a batch (ten messages at most) until it times
/// out, and an endpoint has at most `WorkerSettings::max_in_flight` (10) attempts in flight,
/// so it takes ten endpoints hanging with a full cap each to hold a consumer up.
const MESSAGES_IN_HAND: usize = 1000;

/// The most messages one receive returns (SQS's limit).
const BATCH: usize = 10;

/// How long a consumer that took less than a full batch waits, once, for more before it
/// hands the batch on: Lambda's batching window, at a millisecond. Events posted one per
/// request otherwise travel one or two per batch, each batch paying in full for what is
/// fixed per batch (the endpoint's admission, the log's append, the acknowledgement);
/// topped up, a single-event POST cost 25–32 % less CPU, for ~2 ms more latency on a lone
/// event (tokio's timer rounds the millisecond up; BENCHMARKS.md §2b).
const BATCH_WINDOW: Duration = Duration::from_millis(1);

/// How often expired delivery records are forgotten when no claim does it (after a drain).
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// A worker consumer: where it takes batches from, the worker it hands them to, and the
/// endpoints' gates it shares with the system's other consumers.
#[derive(Clone)]
pub struct WorkerParts {
    pub inbox: Arc<dyn QueueConsumer>,
    pub worker: Worker,
    pub gates: Gates,
}

/// The messages decoded into what their consumer expects: the boundary the use cases
/// receive typed jobs from.
pub fn received<T: DeserializeOwned>(messages: &[QueueMessage]) -> Vec<Received<T>> {
    messages.iter().map(QueueMessage::decode).collect()
}

/// Deletes every message the use case did not report as failed.
async fn acknowledge(
    inbox: &dyn QueueConsumer,
    messages: impl IntoIterator<Item = (String, String)>,
    failed: &[String],
) {
    let done = messages
        .into_iter()
        .filter(|(id, _)| !failed.contains(id))
        .map(|(_, handle)| handle)
        .collect();
    if let Err(e) = inbox.delete(done).await {
        // The messages come back after their visibility timeout; deliveries are idempotent.
        tracing::warn!(error = %e, "could not delete acknowledged messages");
    }
}

/// The next non-empty batch, or `None` once told to stop. Receive errors are logged and
/// retried after a pause: the queue is the source of truth, nothing is lost by waiting.
async fn next_batch(
    inbox: &dyn QueueConsumer,
    stop: &mut watch::Receiver<bool>,
    what: &str,
) -> Option<Vec<QueueMessage>> {
    loop {
        if *stop.borrow() {
            return None;
        }
        let got = tokio::select! {
            got = inbox.receive(BATCH, IDLE_WAIT) => got,
            _ = stop.changed() => return None,
        };
        match got {
            Ok(messages) if messages.is_empty() => {}
            Ok(mut messages) => {
                if messages.len() < BATCH {
                    tokio::time::sleep(BATCH_WINDOW).await;
                    // What arrived meanwhile joins the batch; a failed top-up leaves it be.
                    if let Ok(more) = inbox.receive(BATCH - messages.len(), Duration::ZERO).await {
                        messages.extend(more);
                    }
                }
                return Some(messages);
            }
            Err(e) => {
                tracing::warn!(error = %e, "receiving {what} failed; retrying");
                tokio::time::sleep(IDLE_WAIT).await;
            }
        }
    }
}

/// Takes batches while there is room for one, and delivers each endpoint's share of a batch
/// in a task of its own, acknowledged when that share is done. Lines are per endpoint, so
/// an ordered line's jobs stay together in one task, one after the other.
pub async fn run_worker(parts: WorkerParts, mut stop: watch::Receiver<bool>) {
    let room = Arc::new(Semaphore::new(MESSAGES_IN_HAND));
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = room.clone().acquire_many_owned(BATCH as u32) => permit,
            _ = stop.changed() => break,
        };
        let Ok(mut permit) = permit else { break };
        let Some(messages) = next_batch(parts.inbox.as_ref(), &mut stop, "deliveries").await else {
            break;
        };
        for (endpoint, share) in by_endpoint(&messages) {
            // Room was taken for a whole batch, so each share finds its part of it.
            let Some(held) = permit.split(share.len()) else {
                continue;
            };
            tasks.spawn(deliver_share(parts.clone(), endpoint, share, held));
        }
    }
    // Drain: what is in hand is delivered and acknowledged before the consumer ends.
    while tasks.join_next().await.is_some() {}
}

/// A batch decoded and split by endpoint, in the order received (unreadable messages and
/// fan-out tasks each on their own, with no endpoint).
fn by_endpoint(messages: &[QueueMessage]) -> Vec<(Option<EndpointId>, Vec<Received<Work>>)> {
    let mut shares: Vec<(Option<EndpointId>, Vec<Received<Work>>)> = Vec::new();
    for message in received::<Work>(messages) {
        let key = match &message.body {
            Ok(Work::Deliver(job)) => Some(job.endpoint_id.clone()),
            _ => None,
        };
        match shares.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, share)) => share.push(message),
            None => shares.push((key, vec![message])),
        }
    }
    shares
}

async fn deliver_share(
    parts: WorkerParts,
    endpoint: Option<EndpointId>,
    share: Vec<Received<Work>>,
    _room: OwnedSemaphorePermit,
) {
    // Held until the share is done, so the endpoint's next share finds its slots free.
    let _places = match &endpoint {
        Some(endpoint) => parts.gates.enter(endpoint, share.len()).await,
        None => None,
    };
    let handles: Vec<(String, String)> = share
        .iter()
        .map(|m| (m.message_id.clone(), m.receipt_handle.clone()))
        .collect();
    let report = parts.worker.work(share).await;
    tracing::debug!(
        delivered = report.totals.delivered,
        retried = report.totals.retried,
        dead_lettered = report.totals.dead_lettered,
        "share of a batch done"
    );
    acknowledge(parts.inbox.as_ref(), handles, &report.failed).await;
}

pub async fn run_recorder(
    inbox: Arc<dyn QueueConsumer>,
    recorder: Arc<Recorder>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(messages) = next_batch(inbox.as_ref(), &mut stop, "dead letters").await {
        let report = recorder.record(received(&messages)).await;
        if report.recorded > 0 {
            tracing::warn!(
                recorded = report.recorded,
                "deliveries given up on and recorded"
            );
        }
        let handles = messages
            .into_iter()
            .map(|m| (m.message_id, m.receipt_handle));
        acknowledge(inbox.as_ref(), handles, &report.failed).await;
    }
}

/// Forgets expired delivery records once a minute, as DynamoDB's TTL would: claims forget
/// them too, but an idle local mode makes none, and its memory should return all the same.
pub async fn forget_expired(state: Arc<MemoryStateStore>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FORGET_EVERY) => {}
            _ = stop.changed() => return,
        }
        let forgotten = state.forget_expired(SystemClock.now());
        if forgotten > 0 {
            tracing::debug!(forgotten, "expired delivery records forgotten");
        }
    }
}
