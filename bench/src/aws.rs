//! `authhooks-bench aws`: the real ingest router and Lambda worker handler over moto, with
//! every SDK request counted: the stack the cases (`aws_run`, `aws_ordered`) run on.
//! Lambda's poller is played as tests/src/lambda.rs plays it (ReceiveMessage, invoke,
//! DeleteMessageBatch), on the standard or the ordered (FIFO) queue, and its requests are
//! counted too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authhooks::adapters::dynamodb::{create_tables, TableNames};
use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::adapters::sqs::{create_all_queues, SqsQueue};
use authhooks::app::ingest::IngestSettings;
use authhooks::domain::signature::Secret;
use authhooks::lambda::wiring::Worker;
use authhooks::system::{AwsBackend, Settings};
use authhooks_tests::lambda::{acknowledge, call, signed_ingest_request, sqs_event};
use authhooks_tests::moto::{Moto, QueueOptions};
use aws_config::SdkConfig;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use serde_json::{json, Value};

use crate::client::{endpoint_spec, Subjects};
use crate::counter::{Counter, Counts};
use crate::sink::{FirstAttempt, Sink};

/// The worker's `success_log_sample` for every stack of a run (`--success-log-sample`,
/// set once at its start); the template's 0.01 otherwise.
static SUCCESS_LOG_SAMPLE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

pub fn set_success_log_sample(sample: f64) {
    let _ = SUCCESS_LOG_SAMPLE.set(sample);
}

/// How long every receiver of a run takes to answer (`--receiver-ms`): the worker's Lambda
/// time includes waiting for it, and that time is billed.
static RECEIVER_LATENCY: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

pub fn set_receiver_latency(latency: Duration) {
    let _ = RECEIVER_LATENCY.set(latency);
}

/// A receiver answering as `mode` says after the run's receiver latency.
pub async fn receiver(mode: FirstAttempt) -> anyhow::Result<Arc<Sink>> {
    let latency = RECEIVER_LATENCY.get().copied().unwrap_or_default();
    Sink::answering_after(mode, latency).await
}

/// One run's counts and what they were for.
pub struct Case {
    pub name: String,
    pub units: u64,
    pub counts: Counts,
    pub worker_batches: u64,
    pub worker_secs: f64,
}

/// Tables and queues of their own, the routers and a worker over counted clients.
pub struct Stack {
    pub ingest: Router,
    pub admin: Router,
    pub worker: Worker,
    pub queue: SqsQueue,
    /// The ordered deliveries queue (FIFO), over the counted client too.
    pub ordered: SqsQueue,
    pub dlq_url: String,
    pub queue_url: String,
    pub ordered_url: String,
    pub secret: Secret,
    pub tables: TableNames,
}

pub fn counted_clients(
    sdk: &SdkConfig,
    counter: &Counter,
) -> (aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
    let dynamo = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(counter.clone())
        .build();
    let sqs = aws_sdk_sqs::config::Builder::from(sdk)
        .interceptor(counter.clone())
        .build();
    (
        aws_sdk_dynamodb::Client::from_conf(dynamo),
        aws_sdk_sqs::Client::from_conf(sqs),
    )
}

impl Stack {
    pub async fn create(sdk: &SdkConfig, counter: &Counter) -> anyhow::Result<Stack> {
        let (dynamo, sqs) = counted_clients(sdk, counter);
        let tables = TableNames::named(Moto::unique);
        create_tables(&dynamo, &tables).await?;
        let urls = create_all_queues(
            &sqs,
            &Moto::unique("bench"),
            QueueOptions::default().max_receive_count,
            QueueOptions::default().visibility_timeout_secs,
        )
        .await?;
        let secret = Secret::generate([0x33; 32]);
        let sender = HttpSender::new(SenderConfig {
            allow_private: true,
            ..SenderConfig::default()
        })?;
        let mut settings = Settings {
            ingest: IngestSettings {
                secret: Some(secret.clone()),
                ..IngestSettings::default()
            },
            // As deployed: endpoint reads cached for AUTHHOOKS_ENDPOINT_CACHE_SECS (default 5 s).
            endpoint_cache: Duration::from_secs(5),
            admin_token: Some("bench".to_owned()),
            ..Settings::permissive()
        };
        settings.admin.rotation_grace = Duration::from_secs(3600);
        settings.worker.success_log_sample = *SUCCESS_LOG_SAMPLE.get().unwrap_or(&0.01);
        let system = AwsBackend::new(&dynamo, &sqs, &tables, &urls)
            .deployed(Arc::new(sender))
            .settings(settings)
            .build();
        let (ingest, admin, worker) = (
            system.ingest_router(),
            system.admin_router(),
            Worker::new(&system).metrics_out(Arc::new(crate::log_bytes::add_line)),
        );
        Ok(Stack {
            ingest,
            admin,
            worker,
            queue: SqsQueue::new(sqs.clone(), urls.deliveries.clone()),
            ordered: SqsQueue::new(sqs, urls.ordered.clone()),
            dlq_url: urls.dlq,
            ordered_url: urls.ordered,
            queue_url: urls.deliveries,
            secret,
            tables,
        })
    }

    /// The deliveries queue, ordered queue and DLQ URLs.
    pub fn queue_urls(&self) -> (String, String, String) {
        (
            self.queue_url.clone(),
            self.ordered_url.clone(),
            self.dlq_url.clone(),
        )
    }

    /// Creates an endpoint for every event type, with `extra` fields (retry, circuit…).
    pub async fn add_endpoint(&self, url: &str, extra: Option<Value>) -> anyhow::Result<()> {
        let spec = endpoint_spec(url, extra);
        let request = Request::post("/v1/endpoints")
            .header("authorization", "Bearer bench")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&spec)?))?;
        let (status, body) = call(&self.admin, request).await;
        anyhow::ensure!(status.is_success(), "creating an endpoint: {status} {body}");
        Ok(())
    }

    /// POSTs events `ids` to the ingest router, `per_request` per POST, event `i` about
    /// user `subjects.of(i)`.
    pub async fn ingest(
        &self,
        ids: &[String],
        per_request: usize,
        subjects: Subjects,
    ) -> anyhow::Result<()> {
        let per_request = per_request.max(1);
        for (k, chunk) in ids.chunks(per_request).enumerate() {
            let events: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(j, id)| crate::client::event(id, &subjects.of(k * per_request + j)))
                .collect();
            let body = if per_request == 1 {
                serde_json::to_vec(&events[0])?
            } else {
                serde_json::to_vec(&json!({ "events": events }))?
            };
            let msg_id = format!("msg_{}_{k}", chunk[0]);
            let now = chrono::Utc::now().timestamp();
            let request = signed_ingest_request(&self.secret, &msg_id, now, body)?;
            let (status, answer) = call(&self.ingest, request).await;
            anyhow::ensure!(status.is_success(), "ingest answered {status}: {answer}");
        }
        Ok(())
    }

    /// Plays Lambda's event source mapping on `queue` until `sink` has `expected` receipts:
    /// receive up to 10 (long poll `wait_secs`), invoke the worker, delete what it
    /// acknowledged. On the FIFO queue too: its mapping takes batches of at most 10 and has
    /// no batching window, as here.
    pub async fn pump(
        &self,
        queue: &SqsQueue,
        sink: &Sink,
        expected: u64,
        wait_secs: i32,
        timeout: Duration,
    ) -> anyhow::Result<(u64, f64)> {
        let (mut batches, mut busy) = (0u64, 0.0f64);
        let start = Instant::now();
        while sink.received() < expected {
            anyhow::ensure!(start.elapsed() < timeout, "deliveries did not all arrive");
            let messages = queue.receive(10, wait_secs).await?;
            if messages.is_empty() {
                continue;
            }
            batches += 1;
            let began = Instant::now();
            let response = self.worker.handle(sqs_event(&messages, "deliveries")).await;
            busy += began.elapsed().as_secs_f64();
            acknowledge(queue, messages, &response).await?;
        }
        Ok((batches, busy))
    }
}

pub fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("evt_{prefix}_{i}")).collect()
}
