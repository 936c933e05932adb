//! The endpoint resource's answers: the endpoint itself, its secret shown once on create
//! and rotation, the test route's event id, and what a recover did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::endpoint_spec::EndpointView;
use crate::domain::ids::{EndpointId, EventId};
use crate::domain::signature::Secret;

/// `POST /v1/endpoints` → 201: the endpoint and its signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    pub secret: Secret,
}

/// `POST /v1/endpoints/{id}/rotate-secret`: the new secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedSecret {
    pub secret: Secret,
}

/// `POST /v1/endpoints/{id}/test` → 202: the test event sent to that endpoint alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSent {
    pub event_id: EventId,
}

/// `POST /v1/endpoints/{id}/recover`: the circuit is closed as of `recovered_at`, and
/// `brought_forward` waiting deliveries were made due now on the queue itself (in memory;
/// always 0 on SQS, where each waiting delivery goes at its next look instead, within the
/// bounds docs/operations.md gives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    pub id: EndpointId,
    pub circuit: String,
    pub recovered_at: DateTime<Utc>,
    pub brought_forward: usize,
}

/// `GET /v1/endpoints/{id}/health` (and `GET /v1/endpoint-health`, a page of them): what the
/// console's overview shows of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointHealth {
    pub id: EndpointId,
    /// Absent from an older server's answer.
    #[serde(default)]
    pub url: String,
    /// Its rate limit, if any: deliveries beyond it wait, which is health too.
    #[serde(default)]
    pub rate_limit: Option<crate::domain::rate_limit::RateLimit>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// `closed`, `open` or `half_open`.
    pub circuit: String,
    /// Failures in a row while closed (0 while open: the circuit counts no further).
    pub consecutive_failures: u32,
    /// When the circuit first left `closed`, while it is open or half-open.
    pub open_since: Option<DateTime<Utc>>,
    /// The last `recover`.
    pub recovered_at: Option<DateTime<Utc>>,
    /// The newest delivery given up on.
    pub last_failure: Option<super::FailureItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let secret = Secret::generate([7; 32]);
        let shown = format!(
            "{:?}",
            RotatedSecret {
                secret: secret.clone()
            }
        );
        assert!(!shown.contains(&secret.expose()), "{shown}");
    }
}
