//! The AWS adapters against a real moto server. Each behaviour of a port is written once,
//! over the port trait, and run against the in-memory adapter and against DynamoDB, so the
//! two are held to the same semantics; the SQS adapter is checked on its own.

mod cache;
mod delivery_log;
mod endpoints;
mod errors;
mod failures;
mod fifo;
mod sqs;
mod state;
mod state_progress;
mod state_reads;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use authhooks::domain::delivery::{AttemptRecord, DeliveryJob};
use authhooks::domain::event::Event;
use authhooks::domain::ids::EndpointId;
use authhooks::ports::ClaimOutcome;

/// `secs` after a fixed start; whole seconds, which both adapters store exactly.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

/// An attempt history told apart by `label`, with the shapes that must survive a round
/// trip: a status and none, an error, a snippet, a time with milliseconds.
fn history(label: &str) -> Vec<AttemptRecord> {
    vec![
        AttemptRecord {
            attempt: 1,
            status: None,
            error: Some(label.to_owned()),
            latency_ms: 15_000,
            at: at(0) + chrono::Duration::milliseconds(250),
            snippet: None,
        },
        AttemptRecord {
            attempt: 2,
            status: Some(200),
            error: None,
            latency_ms: 12,
            at: at(5),
            snippet: Some(format!("ok {label}")),
        },
    ]
}

/// A claim won over no earlier progress.
const CLAIMED: ClaimOutcome = ClaimOutcome::Claimed { progress: None };

fn endpoint_id(id: &str) -> EndpointId {
    EndpointId::parse(id).unwrap()
}

/// A job whose event carries the JSON shapes that must survive a round trip: nested
/// objects, arrays, floats, negative numbers, nulls, empty strings.
fn job(event_id: &str, endpoint: &str) -> DeliveryJob {
    let event: Event = serde_json::from_value(json!({
        "id": event_id,
        "type": "user.created",
        "timestamp": "2026-11-22T10:00:00Z",
        "data": {"user": {"id": "u_1", "email": "a@example.com", "score": 1.5, "delta": -3,
                          "tags": ["a", "b"], "nickname": null, "bio": ""}},
        "origin": "better-auth",
        "tenant_id": "acme"
    }))
    .unwrap();
    DeliveryJob::new(event, endpoint_id(endpoint))
}
