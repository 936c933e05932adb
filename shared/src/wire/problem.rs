//! The body of every error answer: RFC 9457 problem details (`application/problem+json`).

use serde::{Deserialize, Serialize};

use crate::domain::validation::FieldError;

/// Missing members decode as empty, so a client can read a problem from any server that
/// speaks RFC 9457 loosely.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProblemBody {
    /// `urn:authhooks:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Validation failures, one per field; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}
