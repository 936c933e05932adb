//! The dlq Lambda (SQS event source on the DLQ, ReportBatchItemFailures): configuration and
//! clients once, then each batch of dead letters recorded.

use std::process::ExitCode;
use std::sync::Arc;

use authhooks::lambda::{init, telemetry, wiring::Recorder};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> ExitCode {
    // Installed for its logs; this function makes no spans to export.
    let _telemetry = telemetry::init("authhooks-dlq");
    let recorder = match init::start(Recorder::from_env()).await {
        Ok(recorder) => Arc::new(recorder),
        Err(code) => return code,
    };
    let result = lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let recorder = recorder.clone();
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(recorder.handle(event.payload).await)
        }
    }))
    .await;
    init::ended(result)
}
