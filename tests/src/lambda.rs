//! The Lambda functions over a real SQS/DynamoDB API (moto): the ingest and admin routers
//! called as Function URLs would call them, and the worker and dlq handlers fed SQS events
//! the way Lambda's event source mapping feeds them — receive, invoke, delete what the
//! handler did not report as failed.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::Utc;
use serde_json::{json, Value};
use tower::ServiceExt;

use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::adapters::sqs::SqsQueue;
use authhooks::api::admin::not_found_fallback;
use authhooks::app::ingest::IngestSettings;
use authhooks::domain::signature::{sign_headers, Secret};
use authhooks::lambda::config::endpoint_cache_from_env;
use authhooks::lambda::wiring::{Recorder, Worker};
use authhooks::ports::QueueMessage;
use authhooks::ports::SystemEntropy;
use authhooks::system::{Settings, System};

use crate::moto::{AwsWorld, QueueOptions};

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct AwsPipeline {
    pub world: AwsWorld,
    pub worker: Worker,
    pub recorder: Recorder,
    pub ingest: Router,
    pub admin: Router,
    pub ingest_secret: Secret,
}

impl AwsPipeline {
    pub async fn start(options: QueueOptions) -> Self {
        Self::start_with(options, |_| {}).await
    }

    /// [`AwsPipeline::start`] with the functions' settings changed by `change`.
    pub async fn start_with(options: QueueOptions, change: impl FnOnce(&mut Settings)) -> Self {
        let world = AwsWorld::create(options).await;
        let ingest_secret = Secret::generate(rand_bytes());
        let mut settings = Settings {
            ingest: IngestSettings {
                secret: Some(ingest_secret.clone()),
                ..IngestSettings::default()
            },
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            ..Settings::permissive()
        };
        settings.admin.rotation_grace = Duration::from_secs(3600);
        change(&mut settings);
        let system = system(&world, settings);
        Self {
            worker: Worker::new(&system),
            recorder: Recorder::new(&system),
            ingest: not_found_fallback(system.ingest_router()),
            admin: not_found_fallback(system.admin_router()),
            world,
            ingest_secret,
        }
    }

    /// Another worker over the same tables and queues, as a second Lambda instance.
    pub fn new_worker(world: &AwsWorld) -> Worker {
        Worker::new(&system(world, Settings::default()))
    }

    /// POSTs `body` to ingest, signed with the ingest secret as a producer would.
    pub async fn post_event(&self, body: &Value) -> (StatusCode, Value) {
        self.post_event_with(body, &[]).await
    }

    /// [`Self::post_event`] with more headers (a producer's `traceparent`).
    pub async fn post_event_with(
        &self,
        body: &Value,
        headers: &[(&'static str, &str)],
    ) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let msg_id = format!("msg_{}", hex(&rand_bytes()[..12]));
        let timestamp = Utc::now().timestamp();
        let mut request =
            signed_ingest_request(&self.ingest_secret, &msg_id, timestamp, bytes).unwrap();
        for (name, value) in headers {
            request.headers_mut().append(*name, value.parse().unwrap());
        }
        call(&self.ingest, request).await
    }

    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_admin(&self.admin, ADMIN_TOKEN, method, path, body).await
    }

    /// Creates an endpoint through the admin API; returns its id and secret.
    pub async fn add_endpoint(&self, spec: Value) -> (String, String) {
        let (status, body) = self.admin("POST", "/v1/endpoints", Some(spec)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().unwrap().to_owned(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// One invocation of the worker on what the deliveries queue has now.
    pub async fn pump_worker(&self, worker: &Worker, wait_secs: i32) -> usize {
        pump(worker, &self.world.queue, "deliveries", wait_secs).await
    }

    /// One invocation of the worker on what the ordered (FIFO) queue has now, from its own
    /// event source mapping.
    pub async fn pump_ordered(&self, worker: &Worker, wait_secs: i32) -> usize {
        pump(worker, &self.world.ordered, "ordered.fifo", wait_secs).await
    }

    /// One invocation of the worker on what the priority lane's queue has now, from its own
    /// event source mapping.
    pub async fn pump_priority(&self, worker: &Worker, wait_secs: i32) -> usize {
        pump(worker, &self.world.priority, "priority", wait_secs).await
    }

    /// One invocation of the dlq function on what the DLQ has now.
    pub async fn pump_dlq(&self) -> usize {
        let messages = self.world.dlq.receive(10, 0).await.unwrap();
        let n = messages.len();
        if n > 0 {
            let response = self.recorder.handle(sqs_event(&messages, "dlq")).await;
            acknowledge(&self.world.dlq, messages, &response)
                .await
                .unwrap();
        }
        n
    }

    /// Runs the three event sources until `done` holds; panics after `timeout`.
    pub async fn run_until<F, Fut>(&self, what: &str, timeout: Duration, mut done: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let start = Instant::now();
        loop {
            if done().await {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}"
            );
            self.pump_worker(&self.worker, 0).await;
            self.pump_ordered(&self.worker, 0).await;
            self.pump_priority(&self.worker, 0).await;
            self.pump_dlq().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One worker invocation on what `queue` (named `source` in the event's ARN) has now,
/// acknowledged as Lambda would; how many messages it took.
async fn pump(worker: &Worker, queue: &SqsQueue, source: &str, wait_secs: i32) -> usize {
    let messages = queue.receive(10, wait_secs).await.unwrap();
    let n = messages.len();
    if n > 0 {
        let response = worker.handle(sqs_event(&messages, source)).await;
        acknowledge(queue, messages, &response).await.unwrap();
    }
    n
}

/// The system over the world's tables and queues as the functions build it: ingest and the
/// worker read endpoints through the cache, for `AUTHHOOKS_ENDPOINT_CACHE_SECS` (5 s by
/// default); admin reads them uncached.
fn system(world: &AwsWorld, settings: Settings) -> System {
    let sender = HttpSender::new(SenderConfig {
        allow_private: true,
        ..SenderConfig::default()
    })
    .unwrap();
    world
        .backend
        .deployed(Arc::new(sender))
        .settings(Settings {
            endpoint_cache: endpoint_cache_from_env().unwrap(),
            ..settings
        })
        .build()
}

/// The SQS event Lambda would deliver for these messages (its JSON form, parsed).
pub fn sqs_event(messages: &[QueueMessage], queue: &str) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": m.receive_count.to_string()},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue}"),
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// Deletes the messages the handler did not report as failed, as the event source mapping
/// does after an invocation.
pub async fn acknowledge(
    queue: &SqsQueue,
    messages: Vec<QueueMessage>,
    response: &SqsBatchResponse,
) -> Result<(), authhooks::ports::PortError> {
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let done: Vec<String> = messages
        .into_iter()
        .filter(|m| !failed.contains(&m.message_id.as_str()))
        .map(|m| m.receipt_handle)
        .collect();
    if done.is_empty() {
        return Ok(());
    }
    queue.delete_batch(&done).await
}

/// A `POST /v1/events` of `body`, signed with `secret` at `timestamp` as a producer signs.
pub fn signed_ingest_request(
    secret: &Secret,
    msg_id: &str,
    timestamp: i64,
    body: Vec<u8>,
) -> Result<Request<Body>, axum::http::Error> {
    sign_headers([secret], msg_id, timestamp, &body)
        .into_iter()
        .fold(
            Request::post("/v1/events").header("content-type", "application/json"),
            |request, (name, value)| request.header(name, value),
        )
        .body(Body::from(body))
}

/// An admin call with a bearer token; `body` as JSON.
pub async fn call_admin(
    router: &Router,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&json).unwrap())
        }
        None => Body::empty(),
    };
    call(router, request.body(body).unwrap()).await
}

pub async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, json)
}

fn rand_bytes() -> [u8; 32] {
    use authhooks::ports::Entropy;
    SystemEntropy.bytes32()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The default queue options with a short visibility timeout, for redelivery tests.
pub fn quick_redelivery(max_receive_count: u32) -> QueueOptions {
    QueueOptions {
        max_receive_count,
        visibility_timeout_secs: 1,
    }
}
