//! The four functions end to end against a real SQS/DynamoDB API (moto) and real receivers
//! on 127.0.0.1, with signatures checked by independent Standard Webhooks verifiers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::adapters::sqs::SqsQueue;
use authhooks::app::ingest::IngestError;
use authhooks::ports::{DeliveryQueue, Enqueue, PortError, SystemClock};
use authhooks_tests::lambda::{quick_redelivery, AwsPipeline};
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::receiver::Reply;
use authhooks_tests::ScriptedSender;
use authhooks_tests::{verify_with_python, Receiver};

const WAIT: Duration = Duration::from_secs(30);

fn user_created(id: &str) -> Value {
    json!({"id": id, "type": "user.created", "data": {"user": {"id": "u_1", "email": "a@example.com"}}, "origin": "better-auth"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_travels_through_sqs_and_dynamodb_to_a_verifying_receiver() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    let (endpoint_id, secret) = pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["user.*"]}))
        .await;

    let (status, body) = pipeline.post_event(&user_created("evt_e2e_1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"][0]["deliveries"], 1);

    pipeline
        .run_until("the delivery", WAIT, || async {
            !receiver.requests().is_empty()
        })
        .await;
    let received = receiver.requests();
    assert_eq!(received.len(), 1);
    verify_with_python(&secret, &received).unwrap();
    let delivered: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(delivered["id"], "evt_e2e_1");
    assert_eq!(delivered["data"]["user"]["email"], "a@example.com");
    assert_eq!(received[0].header("webhook-id"), Some("evt_e2e_1"));

    let (status, attempts) = pipeline
        .admin("GET", "/v1/events/evt_e2e_1/attempts", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{attempts}");
    assert_eq!(attempts["items"][0]["endpoint_id"], endpoint_id.as_str());
    assert_eq!(attempts["items"][0]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_then_200_endpoint_is_retried_on_schedule() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    receiver.set_reply(|n| {
        if n == 1 {
            Reply::status(503)
        } else {
            Reply::status(200)
        }
    });
    let (_, secret) = pipeline
        .add_endpoint(
            json!({"url": receiver.url(), "event_types": ["*"], "retry": {"schedule_secs": [1]}}),
        )
        .await;
    pipeline.post_event(&user_created("evt_retry_1")).await;

    pipeline
        .run_until("the retry", WAIT, || async {
            receiver.requests().len() >= 2
        })
        .await;
    let received = receiver.requests();
    assert_eq!(received.len(), 2);
    let attempts: Vec<_> = received
        .iter()
        .map(|r| r.header("webhook-attempt"))
        .collect();
    assert_eq!(attempts, [Some("1"), Some("2")]);
    assert!(received
        .iter()
        .all(|r| r.header("webhook-id") == Some("evt_retry_1")));
    let gap = received[1].received_at - received[0].received_at;
    assert!(
        gap >= chrono::Duration::milliseconds(800),
        "retried after {gap}"
    );
    verify_with_python(&secret, &received).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_ends_in_the_failures_table_and_a_replay_delivers_it() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(500).with_body("database is down"));
    let (endpoint_id, _) = pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"], "retry": {"schedule_secs": [1, 1]}}))
        .await;
    pipeline.post_event(&user_created("evt_dead_1")).await;

    let failures = || async {
        let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
        list["items"].as_array().map_or(0, Vec::len) > 0
    };
    pipeline
        .run_until("the failure record", WAIT, failures)
        .await;
    let (_, list) = pipeline
        .admin(
            "GET",
            &format!("/v1/failures?endpoint_id={endpoint_id}"),
            None,
        )
        .await;
    let failure = &list["items"][0];
    assert_eq!(failure["reason"], "exhausted");
    assert_eq!(failure["attempts"], 3);
    assert_eq!(failure["last_status"], 500);
    assert_eq!(failure["event_id"], "evt_dead_1");
    assert_eq!(receiver.requests().len(), 3);

    receiver.set_reply(|_| Reply::status(200));
    let id = failure["id"].as_str().unwrap();
    let (status, replayed) = pipeline
        .admin("POST", &format!("/v1/failures/{id}/replay"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    pipeline
        .run_until("the replayed delivery", WAIT, || async {
            receiver.requests().len() >= 4
        })
        .await;
    let last = receiver.requests().pop().unwrap();
    assert_eq!(last.header("webhook-id"), Some("evt_dead_1"));
    assert_eq!(last.header("webhook-attempt"), Some("1"));
    let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
    assert!(list["items"][0]["replayed_at"].is_string(), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_event_id_is_delivered_once_and_once_under_way_is_a_duplicate() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"]}))
        .await;
    let (first, _) = pipeline.post_event(&user_created("evt_dup_1")).await;
    assert_eq!(first, StatusCode::ACCEPTED);
    // Before any worker claimed the delivery: a second copy goes on the queue, under the
    // same delivery id.
    let (early, body) = pipeline.post_event(&user_created("evt_dup_1")).await;
    assert_eq!(early, StatusCode::ACCEPTED);
    assert_eq!(body["events"][0]["duplicate"], false);

    pipeline
        .run_until("the delivery", WAIT, || async {
            !receiver.requests().is_empty()
        })
        .await;
    // Let the second copy be processed: the worker's claim makes it a duplicate.
    for _ in 0..3 {
        pipeline.pump_worker(&pipeline.worker, 1).await;
    }
    assert_eq!(receiver.requests().len(), 1);

    // Delivered: a replay is a duplicate, read from the delivery's record, and enqueues
    // nothing.
    let (late, body) = pipeline.post_event(&user_created("evt_dup_1")).await;
    assert_eq!(late, StatusCode::OK, "{body}");
    assert_eq!(body["events"][0]["duplicate"], true);
    assert_eq!(pipeline.world.queue.receive(10, 1).await.unwrap().len(), 0);
    assert_eq!(receiver.requests().len(), 1);
}

/// Sends the first call's first half for real, then fails, as a batch call dying mid-way.
struct FailingOnce {
    inner: SqsQueue,
    failed: AtomicBool,
}

#[async_trait]
impl DeliveryQueue for FailingOnce {
    async fn enqueue(&self, jobs: Vec<Enqueue>) -> Result<(), PortError> {
        if self.failed.swap(true, Ordering::SeqCst) {
            return self.inner.enqueue(jobs).await;
        }
        let half = jobs.len() / 2;
        self.inner
            .enqueue(jobs.into_iter().take(half).collect())
            .await?;
        Err(PortError::Unavailable(
            "SendMessageBatch: injected failure".into(),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_failure_half_way_through_fan_out_loses_and_duplicates_nothing() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    for i in 0..12 {
        pipeline
            .add_endpoint(json!({"url": format!("{}/{i}", receiver.url()), "event_types": ["*"]}))
            .await;
    }
    let failing = FailingOnce {
        inner: pipeline.world.queue.clone(),
        failed: AtomicBool::new(false),
    };
    // Ingest as the system builds it, uncached and unsigned, its queue failing once.
    let system = pipeline
        .world
        .backend
        .deployed(Arc::new(ScriptedSender::new(Arc::new(SystemClock))))
        .with(|ports| ports.queue = Arc::new(failing))
        .build();
    let body = serde_json::to_vec(&user_created("evt_half_1")).unwrap();
    let first = system.ingest.ingest(&body, None, None).await;
    assert!(
        matches!(first, Err(IngestError::Unavailable(_))),
        "{first:?}"
    );

    // The producer's retry after the 503 is not a duplicate: it enqueues everything.
    let (status, answer) = pipeline.post_event(&user_created("evt_half_1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["events"][0]["duplicate"], false);
    assert_eq!(answer["events"][0]["deliveries"], 12);

    pipeline
        .run_until("twelve deliveries", WAIT, || async {
            receiver.requests().len() >= 12
        })
        .await;
    // Six jobs were enqueued twice; let any second copy be processed before counting.
    for _ in 0..3 {
        pipeline.pump_worker(&pipeline.worker, 1).await;
    }
    let mut paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    let mut expected: Vec<String> = (0..12).map(|i| format!("/hook/{i}")).collect();
    expected.sort();
    assert_eq!(paths, expected, "every endpoint exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_on_one_bucket_never_overspend_it() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    pipeline
        .add_endpoint(json!({
            "url": receiver.url(), "event_types": ["*"],
            "rate_limit": {"requests_per_second": 0.01, "burst_size": 3}
        }))
        .await;
    let events: Vec<Value> = (0..10)
        .map(|i| user_created(&format!("evt_race_{i}")))
        .collect();
    pipeline.post_event(&json!({ "events": events })).await;

    let mut batches = Vec::new();
    while batches.iter().map(Vec::len).sum::<usize>() < 10 {
        let got = pipeline.world.queue.receive(5, 1).await.unwrap();
        assert!(!got.is_empty(), "the ten jobs should be on the queue");
        batches.push(got);
    }
    let second_worker = AwsPipeline::new_worker(&pipeline.world);
    let workers = [&pipeline.worker, &second_worker];
    let runs = batches.iter().enumerate().map(|(i, batch)| {
        workers[i % 2].handle(authhooks_tests::lambda::sqs_event(batch, "deliveries"))
    });
    let responses = futures::future::join_all(runs).await;
    assert!(responses.iter().all(|r| r.batch_item_failures.is_empty()));

    assert_eq!(
        receiver.requests().len(),
        3,
        "a burst of three, whatever the interleaving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_redriven_by_sqs_and_recorded() {
    let pipeline = AwsPipeline::start(quick_redelivery(2)).await;
    let receiver = Receiver::start().await;
    let (endpoint_id, _) = pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["*"]}))
        .await;
    // The endpoint's state item is unreadable, so every attempt at its job fails as an
    // infrastructure error and SQS takes the message back.
    pipeline
        .world
        .dynamodb
        .put_item()
        .table_name(&pipeline.world.tables.state)
        .item("pk", AttributeValue::S(format!("ep#{endpoint_id}")))
        .item("version", AttributeValue::N("1".into()))
        .item("state", AttributeValue::S("not a state".into()))
        .send()
        .await
        .unwrap();
    pipeline.post_event(&user_created("evt_poison_1")).await;

    let recorded = || async {
        let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
        list["items"].as_array().map_or(0, Vec::len) > 0
    };
    pipeline
        .run_until("the redriven message's record", WAIT, recorded)
        .await;
    let (_, list) = pipeline.admin("GET", "/v1/failures", None).await;
    assert_eq!(list["items"][0]["reason"], "redriven");
    assert_eq!(list["items"][0]["event_id"], "evt_poison_1");
    assert_eq!(list["items"][0]["attempts"], 0);
    assert!(receiver.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_renames_reach_an_ordered_endpoint_in_order_over_sqs_fifo() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    // The first request fails: the rename behind it must wait for its retry.
    receiver.set_reply(|n| Reply::status(if n == 1 { 503 } else { 200 }));
    pipeline
        .add_endpoint(json!({
            "url": receiver.url(), "event_types": ["user.*"], "retry": {"schedule_secs": [1]}
        }))
        .await;
    for round in 0..3 {
        let event = json!({
            "id": format!("evt_rename_{round}"), "type": "user.updated", "subject": "u_1",
            "data": {"user": {"id": "u_1", "name": format!("name {round}")}}
        });
        let (status, answer) = pipeline.post_event(&event).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }
    // They wait on the ordered queue, not the standard one.
    assert!(pipeline
        .world
        .queue
        .receive(10, 0)
        .await
        .unwrap()
        .is_empty());
    pipeline
        .run_until("three renames delivered", WAIT, || async {
            receiver.requests().len() >= 4
        })
        .await;
    let ids: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "evt_rename_0",
            "evt_rename_0",
            "evt_rename_1",
            "evt_rename_2"
        ],
        "the renames went out of order"
    );
}
