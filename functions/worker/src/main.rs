//! The worker Lambda (SQS event source, ReportBatchItemFailures): configuration, clients and
//! the HTTP client once, then each batch through the shared worker.

use std::sync::Arc;

use authhooks::lambda::{telemetry, wiring::Worker};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let worker = Arc::new(Worker::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { Ok::<SqsBatchResponse, lambda_runtime::Error>(worker.handle(event.payload).await) }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
