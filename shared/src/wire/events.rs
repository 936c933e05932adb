//! `GET /v1/events/{id}/attempts`: every attempt of every delivery of one event.

use serde::{Deserialize, Serialize};

use crate::domain::delivery::AttemptRecord;
use crate::domain::ids::EndpointId;

/// One attempt of one delivery: the endpoint, then the attempt's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptItem {
    pub endpoint_id: EndpointId,
    #[serde(flatten)]
    pub record: AttemptRecord,
}

/// The attempts of an event: every one at once, so no cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptList {
    pub items: Vec<AttemptItem>,
}
