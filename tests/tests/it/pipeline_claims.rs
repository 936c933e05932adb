//! The delivery record's lifetimes (docs/architecture.md §3.6): a delivered delivery is
//! remembered for 7 days and no longer, and an in-progress claim holds for the endpoint's
//! timeout plus the claim margin and no longer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::channel::oneshot;
use serde_json::json;

use authhooks::domain::delivery::DeliveryJob;
use authhooks::domain::event::Event;
use authhooks::ports::Received;
use authhooks::ports::{
    ClaimOutcome, DeliveryQueue, Enqueue, IdempotencyKey, IdempotencyStore, OutgoingRequest,
    SendReport, Sender,
};
use authhooks_tests::sender::status;
use authhooks_tests::World;

const DAY: Duration = Duration::from_secs(24 * 3600);
const URL: &str = "http://a.test/hook";

fn job(endpoint: &authhooks::domain::endpoint::Endpoint) -> DeliveryJob {
    let event: Event = serde_json::from_value(json!({
        "id": "evt_claimed", "type": "user.updated", "timestamp": "2026-11-22T10:00:00Z", "data": {}
    }))
    .unwrap();
    DeliveryJob::new(event, endpoint.id.clone())
}

async fn enqueue(world: &World, job: &DeliveryJob) {
    let copy = Enqueue {
        job: job.clone(),
        delay: Duration::ZERO,
    };
    world.queue.enqueue(vec![copy]).await.unwrap();
}

#[tokio::test]
async fn a_delivered_delivery_is_remembered_seven_days_and_then_forgotten() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"]}))
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    let job = job(&endpoint);
    let delivered_at = world.now();
    enqueue(&world, &job).await;
    world.run_until_idle(DAY).await;
    assert_eq!(world.sender.sent().len(), 1);

    // A copy of the job re-sent just inside the 7 days is recognised and not sent again.
    let key = IdempotencyKey::delivery(&job.delivery_id);
    world
        .clock
        .advance_to(delivered_at + chrono::Duration::days(7) - chrono::Duration::hours(1));
    enqueue(&world, &job).await;
    world.run_until_idle(DAY).await;
    assert_eq!(
        world.sender.sent().len(),
        1,
        "a copy re-sent at 6 d 23 h must be skipped as already delivered"
    );
    assert_eq!(world.worker_totals().totals.duplicates, 1);
    let peeked = world
        .state
        .peek_many(std::slice::from_ref(&key), world.now())
        .await;
    assert!(
        matches!(peeked.unwrap()[0], Some(ClaimOutcome::Completed { .. })),
        "the delivery record must still be there at 6 d 23 h"
    );

    // Past the 7 days the record has expired: the same job is a new delivery.
    world
        .clock
        .advance_to(delivered_at + chrono::Duration::days(7) + chrono::Duration::seconds(1));
    let peeked = world.state.peek_many(&[key], world.now()).await.unwrap();
    assert!(
        peeked[0].is_none(),
        "the delivery record must expire after 7 days"
    );
    enqueue(&world, &job).await;
    world.run_until_idle(DAY).await;
    assert_eq!(world.sender.sent().len(), 2);
}

/// A network that holds the request until the test lets it go, so a claim stays in progress.
struct HeldSender {
    entered: Mutex<Option<oneshot::Sender<()>>>,
    release: Mutex<Option<oneshot::Receiver<()>>>,
}

#[async_trait]
impl Sender for HeldSender {
    async fn send(&self, _request: OutgoingRequest) -> SendReport {
        let entered = self.entered.lock().unwrap().take();
        let release = self.release.lock().unwrap().take();
        entered.unwrap().send(()).unwrap();
        release.unwrap().await.unwrap();
        SendReport {
            result: status(200),
            latency: Duration::from_millis(1),
        }
    }
}

#[tokio::test]
async fn an_in_progress_claim_holds_for_the_timeout_plus_the_margin_and_no_longer() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"], "timeout_ms": 10000}))
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));
    let lease = endpoint.timeout() + world.system.worker.settings.claim_margin;
    assert_eq!(lease, Duration::from_secs(15), "10 s timeout + 5 s margin");
    let job = job(&endpoint);
    let claimed_at = world.now();

    // Worker A claims the delivery and is still sending it.
    let (entered_tx, entered_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let held = HeldSender {
        entered: Mutex::new(Some(entered_tx)),
        release: Mutex::new(Some(release_rx)),
    };
    let worker = world
        .builder()
        .with(|ports| ports.sender = Arc::new(held))
        .build()
        .worker;
    let worker_a = worker.deliver(vec![Received::decode(
        "copy-a".into(),
        String::new(),
        &serde_json::to_string(&job).unwrap(),
    )]);

    // Meanwhile other workers get copies of the same job (the queue redelivered it). Once
    // the lease has lapsed a copy is sent again: the lease is what bounds a crashed
    // worker's hold, so it must be neither shorter nor longer than promised.
    let others = async {
        entered_rx.await.unwrap();
        world.clock.advance(lease - Duration::from_millis(1));
        enqueue(&world, &job).await;
        world.step().await;
        assert!(
            world.sender.sent().is_empty(),
            "a copy found 1 ms before the lease ends must not be sent"
        );
        // Nor acknowledged: it waits on the queue in case worker A leaves nothing behind.
        assert_eq!(world.worker_totals().failed.len(), 1);
        assert_eq!(world.worker_totals().totals.duplicates, 0);
        let key = IdempotencyKey::delivery(&job.delivery_id);
        let peeked = world.state.peek_many(&[key], world.now()).await.unwrap();
        let Some(ClaimOutcome::InProgress { lease_until }) = peeked[0] else {
            panic!("expected worker A's claim in progress, got {:?}", peeked[0]);
        };
        assert_eq!(
            lease_until - claimed_at,
            chrono::Duration::seconds(15),
            "the lease lasts the 10 s timeout plus the 5 s margin"
        );

        world.clock.advance(Duration::from_millis(1));
        enqueue(&world, &job).await;
        world.step().await;
        assert_eq!(
            world.sender.sent().len(),
            1,
            "once the lease has run out, another worker may claim and send it"
        );
        release_tx.send(()).unwrap();
    };
    let (report_a, ()) = futures::future::join(worker_a, others).await;
    assert_eq!(report_a.totals.delivered, 1);
    assert!(report_a.failed.is_empty());
    world.run_until_idle(DAY).await;
}
