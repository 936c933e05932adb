//! The two deliveries queues as one port: an ordered job (one with an order key) goes to
//! the ordered (FIFO) queue, where it waits in its subject's line; any other to the
//! standard queue with its delay. Ingest, replays and the worker's re-enqueues all send
//! through it, so no caller can put a job on the wrong queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::fanout::FanOutTask;
use crate::domain::ids::EndpointId;
use crate::ports::{DeliveryQueue, Enqueue, FanOutQueue, PortError, QueueRecall};

pub struct DeliveryQueues {
    pub standard: Arc<dyn DeliveryQueue>,
    pub ordered: Arc<dyn DeliveryQueue>,
}

#[async_trait]
impl DeliveryQueue for DeliveryQueues {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let (ordered, standard): (Vec<Enqueue>, Vec<Enqueue>) =
            jobs.into_iter().partition(|e| e.job.order_key.is_some());
        // Both are sent even if one fails: a job enqueued twice is delivered once, so the
        // caller's retry of the whole set is safe.
        let send = |queue: &Arc<dyn DeliveryQueue>, jobs: Vec<Enqueue>| {
            let queue = queue.clone();
            async move {
                if jobs.is_empty() {
                    Ok(())
                } else {
                    queue.enqueue(jobs).await
                }
            }
        };
        let (a, b) =
            futures::future::join(send(&self.standard, standard), send(&self.ordered, ordered))
                .await;
        a.and(b)
    }
}

/// Both deliveries queues as one [`FanOutQueue`]: an ordered task (one with a line) to the
/// ordered queue, any other to the standard queue; the backlog is both queues'.
pub struct FanOutQueues {
    pub standard: Arc<dyn FanOutQueue>,
    pub ordered: Arc<dyn FanOutQueue>,
}

#[async_trait]
impl FanOutQueue for FanOutQueues {
    async fn fan_out(&self, tasks: Vec<FanOutTask>, delay: Duration) -> Result<(), PortError> {
        let (ordered, standard): (Vec<FanOutTask>, Vec<FanOutTask>) =
            tasks.into_iter().partition(|task| task.line().is_some());
        if !standard.is_empty() {
            self.standard.fan_out(standard, delay).await?;
        }
        if !ordered.is_empty() {
            self.ordered.fan_out(ordered, Duration::ZERO).await?;
        }
        Ok(())
    }

    async fn backlog(&self) -> Option<usize> {
        match (self.standard.backlog().await, self.ordered.backlog().await) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        }
    }
}

/// Both deliveries queues as one [`QueueRecall`]: a recover brings the endpoint's waiting
/// jobs forward on each.
pub struct Recalls(pub Vec<Arc<dyn QueueRecall>>);

#[async_trait]
impl QueueRecall for Recalls {
    async fn bring_forward(&self, endpoint: &EndpointId) -> Result<usize, PortError> {
        let mut moved = 0;
        for queue in &self.0 {
            moved += queue.bring_forward(endpoint).await?;
        }
        Ok(moved)
    }
}
