//! The worker's side of fan-out (`domain::fanout`): a batch from the deliveries queues may
//! hold fan-out tasks beside delivery jobs. A task is expanded into its page's jobs, sent
//! with the task for the next page, and only then acknowledged; when the queue in memory
//! already holds as much as it should, the task waits instead.

use std::time::Duration;

use super::{BatchReport, Worker};
use crate::app::ingest::{fresh_jobs, seen};
use crate::domain::delivery::DeliveryJob;
use crate::domain::endpoint::Endpoint;
use crate::domain::fanout::{page, step, FanOutTask, Step, Work};
use crate::domain::ids::DeliveryId;
use crate::ports::{Hold, IdempotencyKey, PortError, Received};

/// What became of one task.
enum Expanded {
    /// Its page's fresh jobs were enqueued (and the next page's task, if any).
    Enqueued(u32),
    /// Put off by the backlog: sent again with a delay (unordered) and acknowledged.
    Deferred,
    /// Put off by the backlog and held in its line (ordered): not acknowledged.
    Held,
}

impl Worker {
    /// Delivers the batch's jobs and expands its fan-out tasks; says what became of both.
    pub async fn work(&self, messages: Vec<Received<Work>>) -> BatchReport {
        let mut jobs: Vec<Received<DeliveryJob>> = Vec::with_capacity(messages.len());
        let mut tasks = Vec::new();
        for message in messages {
            let Received {
                message_id,
                receipt_handle,
                body,
            } = message;
            match body {
                Ok(Work::FanOut(task)) => tasks.push((message_id, receipt_handle, task)),
                Ok(Work::Deliver(job)) => jobs.push(Received {
                    message_id,
                    receipt_handle,
                    body: Ok(job),
                }),
                Err(e) => jobs.push(Received {
                    message_id,
                    receipt_handle,
                    body: Err(e),
                }),
            }
        }
        let mut report = if jobs.is_empty() {
            BatchReport::default()
        } else {
            self.deliver(jobs).await
        };
        for (message_id, receipt_handle, task) in tasks {
            match self.expand(task, &receipt_handle).await {
                Ok(Expanded::Enqueued(n)) => report.fanned_out += n,
                Ok(Expanded::Deferred) => {}
                Ok(Expanded::Held) => report.failed.push(message_id),
                Err(e) => {
                    // Left on the queue: expanded again from the same page, whose jobs
                    // already sent are then found claimed or delivered once.
                    tracing::warn!(error = %e, "fan-out step failed; the task stays queued");
                    report.failed.push(message_id);
                }
            }
        }
        report
    }

    /// One step of `task`: its page's deliveries that have no record yet, enqueued.
    async fn expand(&self, task: FanOutTask, receipt_handle: &str) -> Result<Expanded, PortError> {
        let settings = &self.settings.fan_out;
        if let Step::Wait(wait) = step(self.fan_out.backlog().await, settings.max_backlog) {
            return self.put_off(task, receipt_handle, wait).await;
        }
        let index = self.subscribers.index().await?;
        let targets: Vec<&Endpoint> = index
            .targets(&task.event)
            .into_iter()
            .filter(|endpoint| task.covers(endpoint, settings.partitions))
            .collect();
        // An ordered task covers its partition at once: its next page could not be queued
        // ahead of the subject's next task, which waits behind it in the same line.
        let (this, next) = if task.partition.is_some() {
            (&targets[..], None)
        } else {
            page(&targets, task.after.as_ref(), settings.page)
        };
        let now = self.clock.now();
        let keys: Vec<IdempotencyKey> = this
            .iter()
            .map(|endpoint| {
                IdempotencyKey::delivery(&DeliveryId::derive(&task.event.id, &endpoint.id))
            })
            .collect();
        let seen = seen(self.idempotency.as_ref(), &keys, now).await?;
        let (jobs, _) = fresh_jobs(&task.event, this, &seen, task.trace.as_ref());
        let enqueued = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
        if !jobs.is_empty() {
            self.queue.enqueue(jobs).await?;
        }
        if let Some(after) = next {
            let next = FanOutTask {
                after: Some(after),
                ..task
            };
            self.fan_out.fan_out(vec![next], Duration::ZERO).await?;
        }
        Ok(Expanded::Enqueued(enqueued))
    }

    /// Waits `wait` before the task's next look: an unordered task is sent again with that
    /// delay, an ordered one is held in its line (sending it again would put it behind the
    /// subject's later tasks).
    async fn put_off(
        &self,
        task: FanOutTask,
        receipt_handle: &str,
        wait: Duration,
    ) -> Result<Expanded, PortError> {
        if task.line().is_some() {
            let hold = Hold {
                receipt_handle: receipt_handle.to_owned(),
                delay: wait,
            };
            self.holds.hold(vec![hold]).await?;
            Ok(Expanded::Held)
        } else {
            self.fan_out.fan_out(vec![task], wait).await?;
            Ok(Expanded::Deferred)
        }
    }
}
