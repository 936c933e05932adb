//! The endpoints an event goes to, found through an index by event type and tenant instead
//! of a walk over every endpoint: ingest matches each event of each request, and with
//! thousands of endpoints a full walk cost more CPU than the rest of ingest together.
//!
//! An endpoint is filed under each of its type patterns (`*`, a prefix such as `user.`, or
//! an exact type) within its tenant (or among the unscoped). An event of type `a.b.c` looks
//! under `*`, `a.`, `a.b.` and `a.b.c` in its tenant and among the unscoped; every candidate
//! is then judged by [`Endpoint::receives`], the one rule, so the index only narrows.

use std::collections::HashMap;

use super::endpoint::Endpoint;
use super::event::Event;
use super::filter::TypePattern;
use super::order::DeliveryOrder;

/// Enabled endpoints in id order, filed by tenant and type pattern.
#[derive(Debug, Default)]
pub struct EndpointIndex {
    endpoints: Vec<Endpoint>,
    /// How many of them order deliveries by subject.
    ordered: usize,
    /// Tenant (or none) → pattern key → positions in `endpoints`, ascending.
    filed: HashMap<Option<String>, HashMap<String, Vec<usize>>>,
}

/// The key a pattern is filed under: what an event's type is looked up by.
fn key(pattern: &TypePattern) -> String {
    match pattern {
        TypePattern::All => "*".to_owned(),
        TypePattern::Prefix(prefix) => prefix.clone(),
        TypePattern::Exact(t) => t.as_str().to_owned(),
    }
}

/// The keys an event type is looked up under: `*`, each proper prefix with its dot, itself.
fn lookups(event_type: &str) -> Vec<&str> {
    let mut keys = vec!["*"];
    keys.extend(
        event_type
            .match_indices('.')
            .map(|(at, _)| &event_type[..=at]),
    );
    keys.push(event_type);
    keys
}

impl EndpointIndex {
    /// Indexes the enabled endpoints among `endpoints` (a disabled one receives nothing).
    pub fn new(mut endpoints: Vec<Endpoint>) -> Self {
        endpoints.retain(|e| e.enabled);
        endpoints.sort_by(|a, b| a.id.cmp(&b.id));
        let mut filed: HashMap<Option<String>, HashMap<String, Vec<usize>>> = HashMap::new();
        for (at, endpoint) in endpoints.iter().enumerate() {
            let tenant = filed.entry(endpoint.tenant_id.clone()).or_default();
            for pattern in &endpoint.event_types {
                let positions = tenant.entry(key(pattern)).or_default();
                // Two patterns with the same key (a repeated one) file the endpoint once.
                if positions.last() != Some(&at) {
                    positions.push(at);
                }
            }
        }
        let ordered = endpoints
            .iter()
            .filter(|e| e.ordering == DeliveryOrder::Subject)
            .count();
        Self {
            endpoints,
            ordered,
            filed,
        }
    }

    /// How many of them order deliveries by subject (`domain::fanout` routes by it).
    pub fn ordered(&self) -> usize {
        self.ordered
    }

    /// The enabled endpoints, in id order.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Every endpoint `event` goes to, in id order.
    pub fn targets(&self, event: &Event) -> Vec<&Endpoint> {
        // The unscoped endpoints, and those of the event's tenant if it has one.
        let unscoped = self.filed.get(&None);
        let scoped = event
            .tenant_id
            .is_some()
            .then(|| self.filed.get(&event.tenant_id))
            .flatten();
        let mut positions: Vec<usize> = Vec::new();
        for filed in [unscoped, scoped].into_iter().flatten() {
            for lookup in lookups(event.event_type.as_str()) {
                if let Some(found) = filed.get(lookup) {
                    positions.extend_from_slice(found);
                }
            }
        }
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .filter_map(|at| self.endpoints.get(at))
            .filter(|endpoint| endpoint.receives(event))
            .collect()
    }
}

#[cfg(test)]
mod tests;
