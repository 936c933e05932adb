//! The consumers local mode runs in place of Lambda's SQS event sources: take a batch,
//! run the use case, delete what it acknowledged. A stop signal lets the batch in hand
//! finish, so Ctrl-C drains in-flight deliveries instead of cutting them off.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use serde::de::DeserializeOwned;

use crate::adapters::memory::MemoryStateStore;
use crate::app::{Recorder, Worker};
use crate::ports::{Clock, QueueConsumer, QueueMessage, Received, SystemClock};

/// How long an idle consumer waits before checking the stop signal again.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// How often expired delivery records are forgotten when no claim does it (after a drain).
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// A worker consumer: where it takes batches from and the worker it hands them to.
#[derive(Clone)]
pub struct WorkerParts {
    pub inbox: Arc<dyn QueueConsumer>,
    pub worker: Worker,
}

/// The messages decoded into what their consumer expects: the boundary the use cases
/// receive typed jobs from.
pub fn received<T: DeserializeOwned>(messages: &[QueueMessage]) -> Vec<Received<T>> {
    messages.iter().map(QueueMessage::decode).collect()
}

/// Deletes every message the use case did not report as failed.
async fn acknowledge(inbox: &dyn QueueConsumer, messages: Vec<QueueMessage>, failed: &[String]) {
    let done = messages
        .into_iter()
        .filter(|m| !failed.contains(&m.message_id))
        .map(|m| m.receipt_handle)
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
            got = inbox.receive(10, IDLE_WAIT) => got,
            _ = stop.changed() => return None,
        };
        match got {
            Ok(messages) if messages.is_empty() => {}
            Ok(messages) => return Some(messages),
            Err(e) => {
                tracing::warn!(error = %e, "receiving {what} failed; retrying");
                tokio::time::sleep(IDLE_WAIT).await;
            }
        }
    }
}

pub async fn run_worker(parts: WorkerParts, mut stop: watch::Receiver<bool>) {
    while let Some(messages) = next_batch(parts.inbox.as_ref(), &mut stop, "deliveries").await {
        let report = parts.worker.deliver(received(&messages)).await;
        tracing::debug!(
            delivered = report.totals.delivered,
            retried = report.totals.retried,
            dead_lettered = report.totals.dead_lettered,
            "batch done"
        );
        acknowledge(parts.inbox.as_ref(), messages, &report.failed).await;
    }
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
        acknowledge(inbox.as_ref(), messages, &report.failed).await;
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
