//! Inbound sources (docs/architecture.md §3.16): another system posts its own webhooks to
//! `POST /v1/inbound/{source_id}`; they are verified the way that system signs them
//! ([`Verification`]) and the source's script maps each into events, which ingest takes
//! exactly as `POST /v1/events` would — so authhooks is the hub of a two-way sync and the
//! sender writes no signing code of ours.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::SourceId;
pub use super::script::MAX_SCRIPT_BYTES;

mod inbound;
mod spec;
mod verification;

pub use inbound::{
    request_id, script_input, submission, FailureKind, InboundRequest, SourceFailure,
    MAX_RECORDED_BODY_BYTES,
};
pub use spec::{apply_patch, parse_new, SourceView, VerificationView, MAX_NAME_CHARS};
pub use verification::{Encoding, InboundRejected, SourceSecret, Verification};

/// A source as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    pub name: String,
    pub verification: Verification,
    /// Stamped on every event the script returns, over any origin it set: the loop guard
    /// (§3.2) then keeps the events from going back to the system they came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// JavaScript defining `function handler(request)` (§3.16).
    pub script: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests;
