//! Adapters: the ports' implementations. `memory` is always built; the AWS and HTTP
//! adapters are feature-gated.

pub mod cache;
pub mod memory;

#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "aws")]
pub mod sqs;
