//! The three deliveries queues as one port, each job sent to its lane
//! (`domain::priority::PriorityTypes::lane`): an ordered job (one with an order key) to the
//! ordered (FIFO) queue, where it waits in its subject's line; an unordered job of a
//! priority type to the priority queue, which has consumers of its own; any other to the
//! standard queue with its delay. Ingest, replays and the worker's
//! re-enqueues all send through it, so no caller can put a job on the wrong queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::fanout::FanOutTask;
use crate::domain::ids::EndpointId;
use crate::domain::priority::{Lane, PriorityTypes};
use crate::ports::{DeliveryQueue, Enqueue, FanOutQueue, PortError, QueueRecall};

pub struct DeliveryQueues {
    pub standard: Arc<dyn DeliveryQueue>,
    pub ordered: Arc<dyn DeliveryQueue>,
    pub priority: Arc<dyn DeliveryQueue>,
    pub priority_types: PriorityTypes,
}

#[async_trait]
impl DeliveryQueue for DeliveryQueues {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        let (mut standard, mut ordered, mut priority) = (Vec::new(), Vec::new(), Vec::new());
        for e in jobs {
            match self.priority_types.lane_of(&e.job) {
                Lane::Standard => standard.push(e),
                Lane::Ordered => ordered.push(e),
                Lane::Priority => priority.push(e),
            }
        }
        // All are sent even if one fails: a job enqueued twice is delivered once, so the
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
        let (a, b, c) = futures::future::join3(
            send(&self.standard, standard),
            send(&self.ordered, ordered),
            send(&self.priority, priority),
        )
        .await;
        a.and(b).and(c)
    }
}

/// The deliveries queues as one [`FanOutQueue`]: an ordered task (one with a line) to the
/// ordered queue, an unordered one of a priority type to the priority queue (its pages
/// must not wait behind the bulk backlog either), any other to the standard queue; the
/// backlog is all of theirs.
pub struct FanOutQueues {
    pub standard: Arc<dyn FanOutQueue>,
    pub ordered: Arc<dyn FanOutQueue>,
    pub priority: Arc<dyn FanOutQueue>,
    pub priority_types: PriorityTypes,
}

#[async_trait]
impl FanOutQueue for FanOutQueues {
    async fn fan_out(&self, tasks: Vec<FanOutTask>, delay: Duration) -> Result<(), PortError> {
        let (mut standard, mut ordered, mut priority) = (Vec::new(), Vec::new(), Vec::new());
        for task in tasks {
            match (self.priority_types).lane(task.line().is_some(), &task.event.event_type) {
                Lane::Standard => standard.push(task),
                Lane::Ordered => ordered.push(task),
                Lane::Priority => priority.push(task),
            }
        }
        if !standard.is_empty() {
            self.standard.fan_out(standard, delay).await?;
        }
        if !priority.is_empty() {
            self.priority.fan_out(priority, delay).await?;
        }
        if !ordered.is_empty() {
            self.ordered.fan_out(ordered, Duration::ZERO).await?;
        }
        Ok(())
    }

    async fn backlog(&self) -> Option<usize> {
        let each = [
            self.standard.backlog().await,
            self.ordered.backlog().await,
            self.priority.backlog().await,
        ];
        each.iter()
            .any(Option::is_some)
            .then(|| each.iter().map(|n| n.unwrap_or(0)).sum())
    }
}

/// The deliveries queues as one [`QueueRecall`]: a recover brings the endpoint's waiting
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
