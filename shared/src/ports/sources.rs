//! The ports of inbound sources (§3.16): where sources and their failed requests are kept,
//! and the script sandbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, PageRequest, PortError};
use crate::domain::ids::SourceId;
use crate::domain::script::{ScriptFailure, ScriptRun};
use crate::domain::source::{Source, SourceFailure};

/// How long a source's failed requests are kept.
pub const SOURCE_FAILURE_TTL_DAYS: i64 = 7;

#[async_trait]
pub trait SourceStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces the source.
    async fn put(&self, source: &Source) -> Result<(), PortError>;
    async fn get(&self, id: &SourceId) -> Result<Option<Source>, PortError>;
    /// One page of sources; following `next_cursor` visits each exactly once.
    async fn list(&self, page: PageRequest) -> Result<Page<Source>, PortError>;
    /// Whether it existed. Its failures are left to expire.
    async fn delete(&self, id: &SourceId) -> Result<bool, PortError>;
    /// Keeps a failed request for [`SOURCE_FAILURE_TTL_DAYS`].
    async fn record_failure(&self, failure: &SourceFailure) -> Result<(), PortError>;
    /// The source's failed requests, newest first, as of `now` (expired ones are gone).
    async fn failures(
        &self,
        id: &SourceId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<SourceFailure>, PortError>;
}

/// The sandbox scripts run in. Its one adapter runs them in-process (there is no remote
/// engine to stand in for), on threads of its own.
#[async_trait]
pub trait Scripts: Send + Sync {
    /// Compiles `script` (kept compiled for its runs), or says why it cannot run.
    async fn check(&self, script: &str) -> Result<(), ScriptFailure>;
    /// Runs `script`'s handler on `input` (JSON text) with `now` as its clock.
    async fn run(
        &self,
        script: &str,
        input: String,
        now: DateTime<Utc>,
    ) -> Result<ScriptRun, ScriptFailure>;
}
