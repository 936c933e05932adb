//! `POST /v1/events`'s answer: one entry per event of the request, in its order.

use serde::{Deserialize, Serialize};

use crate::domain::ids::EventId;

/// The answer for one accepted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub id: EventId,
    /// The endpoints it goes to.
    pub deliveries: usize,
    /// Every one of its deliveries was already under way or done: nothing was enqueued.
    pub duplicate: bool,
}

/// 202 (or 200 when every event was a duplicate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestAnswer {
    pub events: Vec<Accepted>,
}
