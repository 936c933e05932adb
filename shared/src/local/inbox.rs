//! Where local mode's consumers take messages from: the in-memory queue (woken on every
//! send, sleeping until the next delayed message is due) or a real SQS queue (long polling).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::adapters::memory::{MemoryQueue, QueueSettings};
use crate::adapters::sqs::SqsQueue;
use crate::ports::{Clock, PortError, QueueConsumer, QueueMessage};
use crate::system::ordered_settings;

pub struct MemoryInbox {
    pub queue: Arc<MemoryQueue>,
    pub notify: Arc<Notify>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl QueueConsumer for MemoryInbox {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, PortError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let got = self.queue.receive(max);
            if !got.is_empty() {
                return Ok(got);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            // Sleep until the next delayed message is due, a send wakes us, or time is up.
            let until_due = self
                .queue
                .next_visible_at()
                .and_then(|at| (at - self.clock.now()).to_std().ok())
                .unwrap_or(wait);
            let nap = until_due.min(deadline - now);
            tokio::select! {
                () = self.notify.notified() => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError> {
        for handle in receipt_handles {
            self.queue.delete(&handle);
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, PortError> {
        let max = i32::try_from(max.clamp(1, 10)).unwrap_or(10);
        let wait = i32::try_from(wait.as_secs().min(20)).unwrap_or(20);
        SqsQueue::receive(self, max, wait).await
    }

    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError> {
        if receipt_handles.is_empty() {
            return Ok(());
        }
        self.delete_batch(&receipt_handles).await
    }
}

/// Local mode's in-memory queues: the standard, the ordered and the priority deliveries
/// queue, all redriving to one DLQ, each waking a consumer on every send, with an inbox
/// over each.
pub struct MemoryQueues {
    pub deliveries: Arc<MemoryQueue>,
    pub ordered: Arc<MemoryQueue>,
    pub priority: Arc<MemoryQueue>,
    pub dlq: Arc<MemoryQueue>,
    pub deliveries_inbox: Arc<MemoryInbox>,
    pub ordered_inbox: Arc<MemoryInbox>,
    pub priority_inbox: Arc<MemoryInbox>,
    pub dlq_inbox: Arc<MemoryInbox>,
}

impl MemoryQueues {
    pub fn new(clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        let (dlq, dlq_inbox) = woken(MemoryQueue::new(clock.clone(), settings), &clock);
        let (deliveries, deliveries_inbox) = woken(
            MemoryQueue::new(clock.clone(), settings).with_dead_letter(dlq.clone()),
            &clock,
        );
        let (priority, priority_inbox) = woken(
            MemoryQueue::new(clock.clone(), settings).with_dead_letter(dlq.clone()),
            &clock,
        );
        let (ordered, ordered_inbox) = woken(
            MemoryQueue::fifo(clock.clone(), ordered_settings(settings))
                .with_dead_letter(dlq.clone()),
            &clock,
        );
        Self {
            deliveries,
            ordered,
            priority,
            dlq,
            deliveries_inbox,
            ordered_inbox,
            priority_inbox,
            dlq_inbox,
        }
    }
}

/// One consumer woken per send; the permit is kept if none is waiting, so no send is missed.
fn woken(queue: MemoryQueue, clock: &Arc<dyn Clock>) -> (Arc<MemoryQueue>, Arc<MemoryInbox>) {
    let notify = Arc::new(Notify::new());
    let wake = notify.clone();
    let queue = Arc::new(queue.with_wakeup(Box::new(move || wake.notify_one())));
    let inbox = Arc::new(MemoryInbox {
        queue: queue.clone(),
        notify,
        clock: clock.clone(),
    });
    (queue, inbox)
}
