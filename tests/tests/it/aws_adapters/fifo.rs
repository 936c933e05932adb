//! The ordered (FIFO) queue: the in-memory one and a real FIFO queue on moto held to the
//! same answers, each scenario run against both (`scenarios`); the SQS queues' creation and
//! what an ordered job carries on the wire (`setup`). moto runs on the wall clock, so the
//! memory queue does too here, and holds are short real ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use authhooks::adapters::memory::{MemoryQueue, QueueSettings};
use authhooks::adapters::sqs::{create_ordered_queues, SqsQueue};
use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::order::OrderKey;
use authhooks::local::inbox::MemoryInbox;
use authhooks::ports::{
    DeliveryQueue, Enqueue, Hold, PortError, QueueConsumer, QueueHold, QueueMessage, SystemClock,
};
use authhooks_tests::moto::Moto;

use super::{endpoint_id, job};

/// What the scenarios need of a queue: send (the port), hold, receive and delete.
struct Lane {
    send: Arc<dyn DeliveryQueue>,
    holds: Arc<dyn QueueHold>,
    inbox: Arc<dyn QueueConsumer>,
}

impl Lane {
    fn new<Q: DeliveryQueue + QueueHold + 'static>(
        queue: Arc<Q>,
        inbox: Arc<dyn QueueConsumer>,
    ) -> Self {
        Self {
            send: queue.clone(),
            holds: queue,
            inbox,
        }
    }

    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        self.send.enqueue(jobs).await
    }

    async fn hold(&self, holds: Vec<Hold>) -> Result<(), PortError> {
        self.holds.hold(holds).await
    }

    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError> {
        self.inbox.delete(receipt_handles).await
    }
}

struct Queues {
    label: &'static str,
    deliveries: Lane,
    dlq: Lane,
}

const VISIBILITY_SECS: u32 = 30;

fn memory(max_receive_count: u32) -> Queues {
    let clock = Arc::new(SystemClock);
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(VISIBILITY_SECS.into()),
        max_receive_count: Some(max_receive_count),
    };
    let dlq = Arc::new(MemoryQueue::fifo(clock.clone(), settings));
    let deliveries =
        Arc::new(MemoryQueue::fifo(clock.clone(), settings).with_dead_letter(dlq.clone()));
    let lane = |queue: Arc<MemoryQueue>| {
        let inbox = MemoryInbox {
            queue: queue.clone(),
            notify: Arc::new(Notify::new()),
            clock: clock.clone(),
        };
        Lane::new(queue, Arc::new(inbox))
    };
    Queues {
        label: "memory",
        deliveries: lane(deliveries),
        dlq: lane(dlq),
    }
}

async fn moto(max_receive_count: u32) -> Queues {
    let sqs = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await);
    let (deliveries, dlq) = create_ordered_queues(
        &sqs,
        &format!("{}.fifo", Moto::unique("ordered")),
        &format!("{}.fifo", Moto::unique("ordered-dlq")),
        max_receive_count,
        VISIBILITY_SECS,
    )
    .await
    .unwrap_or_else(|e| panic!("creating FIFO queues on moto: {e}"));
    let lane = |url: String| {
        let queue = Arc::new(SqsQueue::new(sqs.clone(), url));
        Lane::new(queue.clone(), queue)
    };
    Queues {
        label: "moto",
        deliveries: lane(deliveries),
        dlq: lane(dlq),
    }
}

/// Runs `scenario` against the memory queue and the moto queue, at the same time.
macro_rules! on_both {
    ($max_receive_count:expr, $scenario:ident) => {{
        let memory = memory($max_receive_count);
        let moto = moto($max_receive_count).await;
        tokio::join!($scenario(&memory), $scenario(&moto));
    }};
}

/// An ordered job of `subject` at endpoint ep_a.
fn ordered(event_id: &str, subject: &str) -> DeliveryJob {
    let mut job = job(event_id, "ep_a");
    job.order_key = Some(OrderKey::new(&endpoint_id("ep_a"), Some("acme"), subject));
    job
}

fn now(job: &DeliveryJob) -> Enqueue {
    Enqueue {
        job: job.clone(),
        delay: Duration::ZERO,
    }
}

/// Receives until `count` messages came or `within` passed.
async fn take(queue: &Lane, count: usize, within: Duration) -> Vec<QueueMessage> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < count && Instant::now() < deadline {
        got.extend(queue.inbox.receive(10, Duration::ZERO).await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    got
}

fn jobs(messages: &[QueueMessage]) -> Vec<DeliveryJob> {
    let decode = |m: &QueueMessage| serde_json::from_str(&m.body).unwrap();
    messages.iter().map(decode).collect()
}

/// Event ids per order key, in the order received: what FIFO promises (groups may
/// interleave differently from one queue to another).
fn lines(messages: &[QueueMessage]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in jobs(messages) {
        let key = job.order_key.map(|k| k.to_string()).unwrap_or_default();
        out.entry(key).or_default().push(job.event.id.to_string());
    }
    out
}

fn line(subject: &str, events: &[&str]) -> (String, Vec<String>) {
    let key = OrderKey::new(&endpoint_id("ep_a"), Some("acme"), subject);
    (
        key.to_string(),
        events.iter().map(|&e| e.to_owned()).collect(),
    )
}

fn hold(message: &QueueMessage, delay: Duration) -> Hold {
    Hold {
        receipt_handle: message.receipt_handle.clone(),
        delay,
    }
}

fn handles(messages: &[QueueMessage]) -> Vec<String> {
    messages.iter().map(|m| m.receipt_handle.clone()).collect()
}

// After the macro, which they use.
mod scenarios;
mod setup;
