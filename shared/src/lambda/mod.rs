//! What the four Lambda functions share: typed configuration read once at cold start, the
//! AWS clients and adapters built once, the SQS batch handlers, logging, and cold-start
//! failures reported as init errors. Each
//! function's `main.rs` only wires these to the runtime.

pub mod config;
pub mod init;
pub mod metrics;
pub mod sqs_batch;
pub mod telemetry;
pub mod wiring;
