//! authhooks' own events about its endpoints and deliveries (docs/architecture.md §3.13):
//! what each says, its id, and the rule of who may receive it.
//!
//! They travel the pipeline like a producer's events, to endpoints that subscribe to them
//! by name (`authhooks.*` or an exact type: `*` does not select them, so no receiver
//! written for identity events gets one it does not expect), and never to the endpoint
//! they are about — a notice that an endpoint's circuit opened cannot reach it anyway, and
//! sending it there would only add to its failures.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::circuit::CircuitState;
use super::delivery::DeadLetter;
use super::endpoint::Endpoint;
use super::event::{Data, Event, EventType};
use super::ids::{seeded_random, EventId};

pub use super::event::{is_operational, OPERATIONAL_NAMESPACE as NAMESPACE};
pub const ENDPOINT_DISABLED: &str = "authhooks.endpoint.disabled";
pub const CIRCUIT_OPENED: &str = "authhooks.endpoint.circuit_opened";
pub const CIRCUIT_CLOSED: &str = "authhooks.endpoint.circuit_closed";
pub const DELIVERY_EXHAUSTED: &str = "authhooks.delivery.exhausted";
/// The `origin` of every operational event.
pub const ORIGIN: &str = "authhooks";

/// What happened, to report.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// The system disabled the endpoint (410 Gone, or a circuit open too long).
    Disabled {
        endpoint: &'a Endpoint,
        reason: &'a str,
    },
    /// The circuit left `Closed` (after its `failure_threshold` failures in a row).
    CircuitOpened { endpoint: &'a Endpoint },
    /// The circuit closed again after being open since `open_since`.
    CircuitClosed {
        endpoint: &'a Endpoint,
        open_since: DateTime<Utc>,
    },
    /// A delivery was given up on.
    Exhausted { letter: &'a DeadLetter },
}

/// How the circuit moved between two stored states, as far as the notices care: leaving
/// `Closed`, or returning to it. Half-open probes and reopenings are not news.
pub fn circuit_notice<'a>(
    endpoint: &'a Endpoint,
    before: &CircuitState,
    after: &CircuitState,
) -> Option<Notice<'a>> {
    match (before, after) {
        (CircuitState::Closed { .. }, CircuitState::Closed { .. }) => None,
        (CircuitState::Closed { .. }, _) => Some(Notice::CircuitOpened { endpoint }),
        (previous, CircuitState::Closed { .. }) => {
            previous
                .open_since()
                .map(|open_since| Notice::CircuitClosed {
                    endpoint,
                    open_since,
                })
        }
        _ => None,
    }
}

impl Notice<'_> {
    /// The operational event for this notice at `now`. Its id is derived from what it is
    /// about (the endpoint, or the delivery given up on) and `now`, so the same notice made
    /// twice is one event to ingest's replay check.
    /// A delivery given up on is not reported when it was itself an operational event's:
    /// a monitoring endpoint that is down would otherwise be told about it through another,
    /// and back, for as long as both are down.
    pub fn event(&self, now: DateTime<Utc>) -> Option<Event> {
        let (event_type, endpoint_id, tenant_id, data) = match *self {
            Notice::Disabled { endpoint, reason } => (
                ENDPOINT_DISABLED,
                endpoint.id.as_str(),
                endpoint.tenant_id.clone(),
                json!({"endpoint": about(endpoint), "reason": reason}),
            ),
            Notice::CircuitOpened { endpoint } => (
                CIRCUIT_OPENED,
                endpoint.id.as_str(),
                endpoint.tenant_id.clone(),
                json!({"endpoint": about(endpoint),
                       "failure_threshold": endpoint.circuit.failure_threshold,
                       "open_timeout_secs": endpoint.circuit.open_timeout_secs}),
            ),
            Notice::CircuitClosed {
                endpoint,
                open_since,
            } => (
                CIRCUIT_CLOSED,
                endpoint.id.as_str(),
                endpoint.tenant_id.clone(),
                json!({"endpoint": about(endpoint), "open_since": open_since}),
            ),
            Notice::Exhausted { letter } => {
                let job = &letter.job;
                if is_operational(job.event.event_type.as_str()) {
                    return None;
                }
                let last = job.history.last();
                (
                    DELIVERY_EXHAUSTED,
                    job.endpoint_id.as_str(),
                    job.event.tenant_id.clone(),
                    json!({
                        "endpoint": {"id": job.endpoint_id},
                        "delivery_id": job.delivery_id,
                        "event": {"id": job.event.id, "type": job.event.event_type,
                                  "subject": job.event.subject},
                        "reason": letter.reason.as_str(),
                        "attempts": job.attempts,
                        "last_status": last.and_then(|a| a.status),
                        "last_error": last.and_then(|a| a.error.clone()),
                    }),
                )
            }
        };
        // What the notice is about: one endpoint, or (given up on) one of its deliveries.
        let about = match self {
            Notice::Exhausted { letter } => letter.job.delivery_id.as_str(),
            _ => endpoint_id,
        };
        let seed = format!("{event_type}|{about}|{}", now.timestamp_millis());
        let Value::Object(data) = data else {
            return None;
        };
        Some(Event {
            id: EventId::generate(now, seeded_random(&seed, 0)),
            event_type: EventType::parse(event_type).ok()?,
            timestamp: now,
            data: Data::from(data),
            origin: Some(ORIGIN.to_owned()),
            // The endpoint it is about: an ordered subscriber gets one endpoint's notices in
            // the order they happened.
            subject: Some(endpoint_id.to_owned()),
            tenant_id,
            correlation_id: None,
            sequence: None,
        })
    }
}

fn about(endpoint: &Endpoint) -> Value {
    json!({"id": endpoint.id, "url": endpoint.url.as_str(), "tenant_id": endpoint.tenant_id,
           "description": endpoint.description})
}

#[cfg(test)]
#[path = "operational_tests.rs"]
mod tests;
