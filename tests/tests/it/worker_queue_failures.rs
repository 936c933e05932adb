//! The worker's own queue calls failing: a refused re-enqueue or dead letter must leave the
//! message on the queue (reported in `BatchReport::failed`) with its delivery claim given
//! up, so that a redelivery — even at once — sends it again, and nothing is lost once the
//! queue works again. In memory, under the manual clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use authhooks::adapters::memory::MemoryQueue;
use authhooks::app::deliver::BatchReport;
use authhooks::domain::delivery::DeadLetter;
use authhooks::local::pump::received;
use authhooks::ports::QueueMessage;
use authhooks::ports::{
    DeadLetterQueue, DeliveryQueue, Enqueue, FailureFilter, FailureStore, PageRequest, PortError,
};
use authhooks_tests::sender::status;
use authhooks_tests::World;

const HOUR: Duration = Duration::from_secs(3600);
const FLAKY: &str = "http://flaky.test/hook";
const DEAD: &str = "http://dead.test/hook";

/// A queue that refuses its next `refusals` calls (nothing sent), then forwards them.
struct Refusing {
    inner: Arc<MemoryQueue>,
    refusals: AtomicU32,
}

impl Refusing {
    fn new(inner: &Arc<MemoryQueue>, refusals: u32) -> Arc<Self> {
        Arc::new(Self {
            inner: inner.clone(),
            refusals: AtomicU32::new(refusals),
        })
    }

    fn refuse(&self) -> bool {
        self.refusals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl DeliveryQueue for Refusing {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        if self.refuse() {
            return Err(PortError::Unavailable("test: enqueue refused".into()));
        }
        self.inner.enqueue(jobs).await
    }
}

#[async_trait]
impl DeadLetterQueue for Refusing {
    async fn dead_letter(&self, letters: Vec<DeadLetter>) -> Result<(), PortError> {
        if self.refuse() {
            return Err(PortError::Unavailable("test: dead letter refused".into()));
        }
        self.inner.dead_letter(letters).await
    }
}

/// One worker batch over `batch` with the given queues, acknowledged as the pump and
/// Lambda do: every message not reported failed is deleted.
async fn round(
    world: &World,
    queue: Arc<dyn DeliveryQueue>,
    dead_letters: Arc<dyn DeadLetterQueue>,
    batch: &[QueueMessage],
) -> BatchReport {
    let worker = world
        .builder()
        .with(|ports| {
            ports.queue = queue.clone();
            ports.priority_queue = queue;
            ports.dead_letters = dead_letters;
        })
        .build()
        .worker;
    let report = worker.deliver(received(batch)).await;
    for m in batch {
        if !report.failed.contains(&m.message_id) {
            world.queue.delete(&m.receipt_handle);
        }
    }
    report
}

/// A flaky endpoint (500, then 200) and a dead one (always 500, one retry), each owed one
/// event.
async fn two_endpoints() -> World {
    let world = World::new();
    // Neither type is on the priority lane: both jobs wait on the standard queue.
    for (url, types) in [(FLAKY, "user.created"), (DEAD, "user.updated")] {
        world
            .add_endpoint(
                json!({"url": url, "event_types": [types], "retry": {"schedule_secs": [0]}}),
            )
            .await;
    }
    world
        .sender
        .script(FLAKY, Box::new(|n| status(if n == 1 { 500 } else { 200 })));
    world.sender.script(DEAD, Box::new(|_| status(500)));
    for (id, kind) in [("evt_flaky", "user.created"), ("evt_dead", "user.updated")] {
        world
            .ingest(&json!({"id": id, "type": kind, "data": {"user": {"id": "u_1"}}}))
            .await
            .unwrap();
    }
    world
}

fn ids(batch: &[QueueMessage]) -> Vec<String> {
    batch.iter().map(|m| m.message_id.clone()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn failures(world: &World) -> usize {
    let page = world
        .failures
        .list(&FailureFilter::default(), PageRequest::first(10))
        .await;
    page.unwrap().items.len()
}

/// Nothing lost: the flaky delivery reached its receiver with a 2xx exactly once, the dead
/// one is recorded as failed exactly once, and both queues are empty.
async fn assert_all_accounted_for(world: &World) {
    let ok = world.sender.sent_to(FLAKY);
    let ok = ok.iter().filter(|s| s.result == status(200)).count();
    assert_eq!(ok, 1, "the flaky delivery was not delivered exactly once");
    assert_eq!(
        failures(world).await,
        1,
        "the dead delivery is not recorded"
    );
    assert_eq!(world.queue.len() + world.dlq.len(), 0, "messages left over");
}

#[tokio::test]
async fn a_refused_re_enqueue_keeps_the_message_and_frees_its_claim() {
    let world = two_endpoints().await;
    let batch = world.queue.receive(10);
    assert_eq!(batch.len(), 2);
    let refusing = Refusing::new(&world.queue, 1);

    // Both first attempts fail (500) and their retries go out in one refused call.
    let report = round(&world, refusing.clone(), world.dlq.clone(), &batch).await;
    assert_eq!(report.totals.retried, 2);
    assert_eq!(
        sorted(report.failed.clone()),
        sorted(ids(&batch)),
        "a message whose retry was not enqueued must stay on the queue"
    );
    assert_eq!(world.queue.len(), 2, "nothing was enqueued");

    // Redelivered at once (the lease has not lapsed): each claims its delivery again and
    // is sent again — the flaky one now delivered, the dead one retried.
    let again = round(&world, world.queue.clone(), world.dlq.clone(), &batch).await;
    assert_eq!(
        again.totals.duplicates, 0,
        "the redelivered messages found their deliveries still claimed: {again:?}"
    );
    assert_eq!(
        (again.totals.delivered, again.totals.retried),
        (1, 1),
        "{again:?}"
    );
    assert!(again.failed.is_empty(), "{again:?}");
    assert_eq!(world.sender.sent().len(), 4);

    world.run_until_idle(HOUR).await;
    assert_all_accounted_for(&world).await;
}

#[tokio::test]
async fn a_refused_dead_letter_keeps_the_message_and_frees_its_claim() {
    let world = two_endpoints().await;
    // First attempts: the flaky delivery's retry and the dead one's are enqueued.
    world.step().await;
    world.clock.advance(Duration::from_secs(1));
    let batch = world.queue.receive(10);
    assert_eq!(batch.len(), 2, "both retries are due");
    let refusing = Refusing::new(&world.dlq, 1);

    // The flaky retry is delivered; the dead one's last attempt fails, its letter refused.
    let report = round(&world, world.queue.clone(), refusing.clone(), &batch).await;
    assert_eq!(report.totals.delivered, 1);
    let dead_message = batch
        .iter()
        .find(|m| m.body.contains("evt_dead"))
        .unwrap()
        .message_id
        .clone();
    assert_eq!(
        report.failed,
        vec![dead_message.clone()],
        "a message whose dead letter was not sent must stay on the queue"
    );
    assert_eq!(report.totals.dead_lettered, 0);
    assert_eq!(world.dlq.len(), 0);

    // Redelivered at once: the dead delivery claims again, is sent and dead-lettered.
    let redelivered: Vec<QueueMessage> = batch
        .into_iter()
        .filter(|m| m.message_id == dead_message)
        .collect();
    let again = round(&world, world.queue.clone(), world.dlq.clone(), &redelivered).await;
    assert_eq!(
        again.totals.duplicates, 0,
        "the redelivered message found its delivery still claimed: {again:?}"
    );
    assert_eq!(again.totals.dead_lettered, 1, "{again:?}");
    assert_eq!(world.sender.sent_to(DEAD).len(), 3);

    world.run_until_idle(HOUR).await;
    assert_all_accounted_for(&world).await;
}

#[tokio::test]
async fn while_the_queue_refuses_messages_wait_on_it_and_nothing_is_lost() {
    let world = two_endpoints().await;
    let batch = world.queue.receive(10);
    let refusing = Refusing::new(&world.queue, 1);
    round(&world, refusing.clone(), world.dlq.clone(), &batch).await;

    // Both come back after the visibility timeout; the flaky one is delivered, the dead
    // one reaches its last attempt, whose dead letter is refused twice before it goes.
    let mut letters_refused = 0;
    let refusing_dlq = Refusing::new(&world.dlq, 2);
    for _ in 0..6 {
        match world.queue.next_visible_at() {
            Some(at) => world.clock.advance_to(at.max(world.now())),
            None => break,
        }
        let batch = world.queue.receive(10);
        let report = round(&world, world.queue.clone(), refusing_dlq.clone(), &batch).await;
        letters_refused += u32::from(report.totals.dead_lettered == 0 && !report.failed.is_empty());
    }

    // The recorder takes the dead letter; nothing is left behind.
    world.run_until_idle(HOUR).await;
    assert_all_accounted_for(&world).await;
    assert_eq!(letters_refused, 2, "the dead letter was refused twice");
    // Its first attempt, again after the refused re-enqueue, its last three times.
    assert_eq!(world.sender.sent_to(DEAD).len(), 1 + 1 + 3);
}
