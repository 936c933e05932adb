//! Adapters: the ports' implementations. `memory` is always built; the AWS and HTTP
//! adapters are feature-gated.

pub mod cache;
pub mod log_search;
pub mod memory;
pub mod queues;
pub mod scripts;

#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "aws")]
pub mod secrets;
#[cfg(feature = "aws")]
pub mod sqs;

/// Whether a log event is one of the AWS SDK's trace-level dumps of a whole request,
/// response or operation output ("read HTTP response body", `output_or_error`, ...). They
/// carry DynamoDB items and SQS messages verbatim (endpoint secrets, event payloads,
/// response snippets), so the subscribers drop them whatever `RUST_LOG` says.
#[cfg(feature = "aws")]
pub fn is_sdk_wire_dump(metadata: &tracing::Metadata<'_>) -> bool {
    *metadata.level() == tracing::Level::TRACE
        && metadata
            .target()
            .starts_with("aws_smithy_runtime::client::orchestrator")
}
