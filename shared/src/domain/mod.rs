//! The pure core: every decision authhooks makes, with time and randomness passed in.
//!
//! Nothing here imports an async runtime, an AWS SDK, an HTTP stack or a Lambda crate, so the
//! module compiles for consumers that only verify webhooks (`default-features = false`).

pub mod admission;
pub mod batch;
pub mod circuit;
pub mod dedupe;
pub mod delivery;
pub mod delivery_log;
pub mod destination;
pub mod endpoint;
pub mod endpoint_index;
pub mod endpoint_spec;
pub mod event;
pub mod fanout;
pub mod filter;
pub mod ids;
pub mod in_flight;
pub mod json;
pub mod operational;
pub mod order;
pub mod outcome;
pub mod portal;
pub mod priority;
pub mod rate_limit;
pub mod recovery;
pub mod retry;
pub mod script;
pub mod signature;
pub mod source;
pub mod submission;
pub mod time;
pub mod trace;
pub mod transform;
pub mod validation;
pub mod webhook;
