//! Source bodies (§3.16): a created source with its generated secret, a dry run's request
//! and answer, and what `POST /v1/inbound/{source_id}` answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Accepted;
pub use crate::domain::source::{FailureKind, SourceFailure, SourceView, VerificationView};

/// `POST /v1/sources` and `PATCH /v1/sources/{id}`: the source, and the Standard Webhooks
/// secret made for it, shown this once (absent when the caller gave the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSource {
    #[serde(flatten)]
    pub source: SourceView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `POST /v1/sources/{id}/dry-run`: a sample request (its body as JSON, or as text in
/// `raw`), and optionally a script to try instead of the stored one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// What the dry run made: the events as endpoints would receive them, or the error, and
/// what the script logged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DryRunAnswer {
    pub events: Vec<Value>,
    pub error: Option<String>,
    pub logs: Vec<String>,
}

/// `POST /v1/inbound/{source_id}`: the events accepted, or — the request was received and
/// its failure recorded — why there are none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundAnswer {
    pub events: Vec<Accepted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<InboundFailure>,
}

/// The recorded failure of an inbound request, as its sender is told it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundFailure {
    pub id: String,
    pub kind: FailureKind,
    pub error: String,
}
