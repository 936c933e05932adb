//! The endpoint resource's answers: the endpoint itself, its secret shown once on create
//! and rotation, and the test route's event id.

use serde::{Deserialize, Serialize};

pub use crate::domain::endpoint_spec::EndpointView;
use crate::domain::ids::EventId;
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
