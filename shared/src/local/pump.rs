//! The consumers local mode runs in place of Lambda's SQS event sources: take a batch,
//! run the use case, delete what it acknowledged. A stop signal lets the batch in hand
//! finish, so Ctrl-C drains in-flight deliveries instead of cutting them off.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::inbox::Inbox;
use crate::adapters::memory::QueueMessage;
use crate::app::deliver::{deliver_batch, Received, WorkerPorts, WorkerSettings};
use crate::app::failures::record_failures;
use crate::app::Env;
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FailureStore, IdempotencyStore, Sender,
};

/// How long an idle consumer waits before checking the stop signal again.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// Everything a worker consumer runs over.
#[derive(Clone)]
pub struct WorkerParts {
    pub inbox: Arc<dyn Inbox>,
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    pub sender: Arc<dyn Sender>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub settings: WorkerSettings,
}

fn received(messages: &[QueueMessage]) -> Vec<Received> {
    messages
        .iter()
        .map(|m| Received {
            message_id: m.message_id.clone(),
            body: m.body.clone(),
        })
        .collect()
}

/// Deletes every message the use case did not report as failed.
async fn acknowledge(inbox: &dyn Inbox, messages: Vec<QueueMessage>, failed: &[String]) {
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

pub async fn run_worker(parts: WorkerParts, mut stop: watch::Receiver<bool>) {
    loop {
        let messages = tokio::select! {
            got = parts.inbox.receive(10, IDLE_WAIT) => got,
            _ = stop.changed() => break,
        };
        let messages = match messages {
            Ok(m) if m.is_empty() => continue,
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "receiving deliveries failed; retrying");
                tokio::time::sleep(IDLE_WAIT).await;
                continue;
            }
        };
        let ports = WorkerPorts {
            endpoints: parts.endpoints.as_ref(),
            state: parts.state.as_ref(),
            idempotency: parts.idempotency.as_ref(),
            queue: parts.queue.as_ref(),
            dead_letters: parts.dead_letters.as_ref(),
            sender: parts.sender.as_ref(),
        };
        let env = Env {
            clock: parts.clock.as_ref(),
            entropy: parts.entropy.as_ref(),
        };
        let report = deliver_batch(&ports, &parts.settings, env, received(&messages)).await;
        tracing::debug!(
            delivered = report.delivered,
            retried = report.retried,
            dead_lettered = report.dead_lettered,
            "batch done"
        );
        acknowledge(parts.inbox.as_ref(), messages, &report.failed).await;
        if *stop.borrow() {
            break;
        }
    }
}

pub async fn run_recorder(
    inbox: Arc<dyn Inbox>,
    failures: Arc<dyn FailureStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let messages = tokio::select! {
            got = inbox.receive(10, IDLE_WAIT) => got,
            _ = stop.changed() => break,
        };
        let messages = match messages {
            Ok(m) if m.is_empty() => continue,
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "receiving dead letters failed; retrying");
                tokio::time::sleep(IDLE_WAIT).await;
                continue;
            }
        };
        let env = Env {
            clock: clock.as_ref(),
            entropy: entropy.as_ref(),
        };
        let report = record_failures(failures.as_ref(), env, received(&messages)).await;
        if report.recorded > 0 {
            tracing::warn!(
                recorded = report.recorded,
                "deliveries given up on and recorded"
            );
        }
        acknowledge(inbox.as_ref(), messages, &report.failed).await;
    }
}
