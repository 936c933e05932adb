//! The dlq Lambda (SQS event source on the DLQ, ReportBatchItemFailures): configuration and
//! clients once, then each batch of dead letters recorded.

use std::sync::Arc;

use authhooks::lambda::{telemetry, wiring::Recorder};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let recorder = Arc::new(Recorder::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let recorder = recorder.clone();
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(recorder.handle(event.payload).await)
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
