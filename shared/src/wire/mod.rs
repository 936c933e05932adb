//! The HTTP APIs' bodies as serde types (docs/architecture.md §3.1, §3.4): what the ingest
//! and admin routers answer, and what the CLI, the tests and the bench decode. Plain data
//! over domain types, with no async, HTTP or AWS crate, so every consumer can use it. Types
//! that carry a secret redact it in `Debug` (through [`Secret`](crate::domain::signature::Secret)).

mod endpoints;
mod events;
mod failures;
mod ingest;
mod page;
mod problem;
mod sources;

pub use endpoints::{
    CreatedEndpoint, EndpointHealth, EndpointView, Recovered, RotatedSecret, TestSent,
};
pub use events::{AttemptItem, AttemptList};
pub use failures::{FailureItem, Replayed};
pub use ingest::{Accepted, IngestAnswer};
pub use page::List;
pub use problem::ProblemBody;
pub use sources::{
    DryRunAnswer, DryRunRequest, FailureKind, InboundAnswer, InboundFailure, SavedSource,
    SourceFailure, SourceView, VerificationView,
};
