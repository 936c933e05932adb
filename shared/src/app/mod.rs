//! The use cases, as functions over ports: what the Lambdas and local mode run. They parse
//! nothing from the wire and decide nothing themselves; the domain decides, they sequence.

pub mod admin;
pub mod deliver;
pub mod failures;
pub mod ingest;

use chrono::{DateTime, Utc};

/// What a use case must know about "now" and chance; both injected.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub clock: &'a dyn crate::ports::Clock,
    pub entropy: &'a dyn crate::ports::Entropy,
}

impl Env<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
