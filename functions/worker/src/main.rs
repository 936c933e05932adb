//! The worker Lambda (SQS event source, ReportBatchItemFailures): configuration, clients and
//! the HTTP client once, then each batch through the shared worker.

use std::process::ExitCode;
use std::sync::Arc;

use authhooks::lambda::{init, telemetry, wiring::Worker};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry::init("authhooks-worker");
    let worker = match init::start(Worker::from_env()).await {
        Ok(worker) => Arc::new(worker),
        Err(code) => return code,
    };
    let result = lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        let telemetry = telemetry.clone();
        async move {
            let answer = worker.handle(event.payload).await;
            telemetry.flush().await;
            Ok::<SqsBatchResponse, lambda_runtime::Error>(answer)
        }
    }))
    .await;
    init::ended(result)
}
