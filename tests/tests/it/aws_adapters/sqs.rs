//! The SQS adapter on moto: batched sends arrive whole, delays hold messages back, SQS's
//! own redrive moves a message to the DLQ, deletes and visibility changes act on exactly
//! the messages named, oversized bodies are refused before anything is sent, and a delayed
//! message cannot be brought forward (as the in-memory queue can for `recover`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use authhooks::adapters::sqs::SqsQueue;
use authhooks::domain::delivery::{DeadLetter, DeliveryJob};
use authhooks::domain::event::Data;
use authhooks::domain::outcome::FailureReason;
use authhooks::ports::QueueMessage;
use authhooks::ports::{DeadLetterQueue, DeliveryQueue, Enqueue, PortError};
use authhooks_tests::moto::{aws_world, AwsWorld, QueueOptions};

use super::job;

fn now(job: DeliveryJob) -> Enqueue {
    Enqueue {
        job,
        delay: Duration::ZERO,
    }
}

/// Receives until `count` messages arrived or `within` passed.
async fn receive_n(queue: &SqsQueue, count: usize, within: Duration) -> Vec<QueueMessage> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < count && Instant::now() < deadline {
        got.extend(queue.receive(10, 1).await.unwrap());
    }
    got
}

fn jobs_in(messages: &[QueueMessage]) -> BTreeMap<String, DeliveryJob> {
    messages
        .iter()
        .map(|m| {
            let job: DeliveryJob = serde_json::from_str(&m.body).unwrap();
            (job.event.id.to_string(), job)
        })
        .collect()
}

fn handles(messages: &[QueueMessage]) -> Vec<String> {
    messages.iter().map(|m| m.receipt_handle.clone()).collect()
}

#[tokio::test]
async fn twenty_five_jobs_arrive_intact_once_each() {
    let world = aws_world().await;
    let sent: Vec<DeliveryJob> = (0..25).map(|i| job(&format!("evt_{i}"), "ep_a")).collect();
    world
        .queue
        .enqueue(sent.iter().cloned().map(now).collect())
        .await
        .unwrap();

    let got = receive_n(&world.queue, 25, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 25, "messages lost or duplicated");
    assert!(got.iter().all(|m| m.receive_count == 1));
    let expected: BTreeMap<_, _> = sent
        .into_iter()
        .map(|j| (j.event.id.to_string(), j))
        .collect();
    assert_eq!(jobs_in(&got), expected);
    world.queue.delete_batch(&handles(&got)).await.unwrap();
}

#[tokio::test]
async fn a_delayed_job_waits_its_delay() {
    let world = aws_world().await;
    let delayed = Enqueue {
        job: job("evt_later", "ep_a"),
        delay: Duration::from_secs(2),
    };
    let sent_at = Instant::now();
    world
        .queue
        .enqueue(vec![delayed.clone(), now(job("evt_now", "ep_a"))])
        .await
        .unwrap();

    let first = world.queue.receive(10, 0).await.unwrap();
    assert_eq!(jobs_in(&first).keys().collect::<Vec<_>>(), ["evt_now"]);
    let later = receive_n(&world.queue, 1, Duration::from_secs(8)).await;
    assert_eq!(
        jobs_in(&later).into_values().collect::<Vec<_>>(),
        [delayed.job]
    );
    assert!(
        sent_at.elapsed() >= Duration::from_millis(1500),
        "arrived before its delay"
    );
}

#[tokio::test]
async fn sqs_redrives_to_the_dlq_after_max_receive_count() {
    let world = AwsWorld::create(QueueOptions {
        max_receive_count: 2,
        visibility_timeout_secs: 30,
    })
    .await;
    let poison = job("evt_poison", "ep_a");
    world
        .queue
        .enqueue(vec![now(poison.clone())])
        .await
        .unwrap();

    for expected_count in 1..=2 {
        let got = receive_n(&world.queue, 1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, expected_count);
        // Not deleted, as after a crash; visible again at once instead of after 30 s.
        world
            .queue
            .change_visibility(&got[0].receipt_handle, 0)
            .await
            .unwrap();
    }
    assert!(world.queue.receive(10, 1).await.unwrap().is_empty());
    let redriven = receive_n(&world.dlq, 1, Duration::from_secs(5)).await;
    assert_eq!(redriven.len(), 1, "the message did not reach the DLQ");
    assert_eq!(
        serde_json::from_str::<DeliveryJob>(&redriven[0].body).unwrap(),
        poison
    );
}

#[tokio::test]
async fn delete_batch_removes_exactly_the_named_messages() {
    let world = aws_world().await;
    let jobs: Vec<_> = (0..12)
        .map(|i| now(job(&format!("evt_{i}"), "ep_a")))
        .collect();
    world.queue.enqueue(jobs).await.unwrap();
    let got = receive_n(&world.queue, 12, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 12);

    let (deleted, kept) = got.split_at(7);
    world.queue.delete_batch(&handles(deleted)).await.unwrap();
    for message in kept {
        world
            .queue
            .change_visibility(&message.receipt_handle, 0)
            .await
            .unwrap();
    }
    let back = receive_n(&world.queue, 6, Duration::from_secs(3)).await;
    assert_eq!(
        jobs_in(&back).keys().collect::<Vec<_>>(),
        jobs_in(kept).keys().collect::<Vec<_>>()
    );
    assert!(back.iter().all(|m| m.receive_count == 2));

    world.queue.delete_batch(&handles(&back)).await.unwrap();
    // Were they still there, this would bring them straight back (SQS may refuse the
    // handles of deleted messages, which is fine).
    for message in &back {
        world
            .queue
            .change_visibility(&message.receipt_handle, 0)
            .await
            .ok();
    }
    assert!(world.queue.receive(10, 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn dead_letters_cross_as_json() {
    let world = aws_world().await;
    let letters: Vec<_> = (0..11)
        .map(|i| DeadLetter {
            reason: FailureReason::Gone,
            job: job(&format!("evt_{i}"), "ep_gone"),
        })
        .collect();
    world.dlq.dead_letter(letters.clone()).await.unwrap();
    let got = receive_n(&world.dlq, 11, Duration::from_secs(10)).await;
    let mut received: Vec<DeadLetter> = got
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    received.sort_by(|a, b| a.job.event.id.cmp(&b.job.event.id));
    let mut expected = letters;
    expected.sort_by(|a, b| a.job.event.id.cmp(&b.job.event.id));
    assert_eq!(received, expected);
}

/// Event data of one string of `len` times `c`.
fn blob(c: &str, len: usize) -> Data {
    let data = json!({"blob": c.repeat(len)});
    data.as_object().unwrap().clone().into()
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_anything_is_sent() {
    let world = aws_world().await;
    let mut big = job("evt_big", "ep_a");
    big.event.data = blob("x", 300 * 1024);
    let result = world
        .queue
        .enqueue(vec![now(job("evt_small", "ep_a")), now(big)])
        .await;
    assert!(matches!(result, Err(PortError::Rejected(_))), "{result:?}");
    assert!(world.queue.receive(10, 1).await.unwrap().is_empty());

    // Bodies that fit one by one but not together go in separate calls.
    let mut large = Vec::new();
    for i in 0..4 {
        let mut j = job(&format!("evt_large_{i}"), "ep_a");
        j.event.data = blob("y", 100 * 1024);
        large.push(now(j));
    }
    world.queue.enqueue(large).await.unwrap();
    assert_eq!(
        receive_n(&world.queue, 4, Duration::from_secs(10))
            .await
            .len(),
        4
    );
}

/// `recover` asks each deliveries queue to bring an endpoint's waiting messages forward.
/// The in-memory queue does; SQS cannot find a delayed message, so its adapter says 0 and
/// the message keeps its delay (the worker cuts the wait short at its next look instead).
#[tokio::test]
async fn only_the_memory_queue_can_bring_a_delayed_job_forward() {
    use std::sync::Arc;

    use authhooks::adapters::memory::{MemoryQueue, QueueSettings};
    use authhooks::ports::{QueueRecall, SystemClock};

    let delayed = || Enqueue {
        job: job("evt_waiting", "ep_back"),
        delay: Duration::from_secs(60),
    };
    let other = || Enqueue {
        job: job("evt_other", "ep_other"),
        delay: Duration::from_secs(60),
    };
    let endpoint = super::endpoint_id("ep_back");

    let memory = MemoryQueue::new(Arc::new(SystemClock), QueueSettings::default());
    memory.enqueue(vec![delayed(), other()]).await.unwrap();
    assert!(memory.receive(10).is_empty(), "both wait their delay");
    assert_eq!(QueueRecall::bring_forward(&memory, &endpoint).await, Ok(1));
    let got = memory.receive(10);
    assert_eq!(jobs_in(&got).keys().collect::<Vec<_>>(), ["evt_waiting"]);

    let world = aws_world().await;
    world.queue.enqueue(vec![delayed()]).await.unwrap();
    assert_eq!(world.queue.bring_forward(&endpoint).await, Ok(0));
    assert!(
        receive_n(&world.queue, 1, Duration::from_secs(2))
            .await
            .is_empty(),
        "on SQS the delayed message keeps its delay"
    );
}
