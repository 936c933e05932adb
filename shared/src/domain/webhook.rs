//! The outgoing webhook request (docs/architecture.md §3.3): the body and the headers of
//! the endpoint's signing scheme, signed with the secrets the endpoint currently holds.

use chrono::{DateTime, Utc};

use super::endpoint::Endpoint;
use super::signature::{Message, HEADER_WEBHOOK_ATTEMPT};
use super::trace::{TraceParent, HEADER_TRACEPARENT, HEADER_TRACESTATE};

/// `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("authhooks/", env!("CARGO_PKG_VERSION"));

/// What a POST is signed as: an event's id and type, or a batch's (`domain::batch`).
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
}

/// The headers of attempt number `attempt` of the POST `signed` names, signed at `now`,
/// continuing `trace` (the attempt's child of the job's trace context) when there is one.
/// The signature headers come last and extra headers cannot name them (the endpoint model
/// refuses it).
pub fn headers(
    endpoint: &Endpoint,
    signed: Signed<'_>,
    attempt: u32,
    body: &[u8],
    now: DateTime<Utc>,
    trace: Option<&TraceParent>,
) -> Vec<(String, String)> {
    let signing = &endpoint.signing;
    // Only worth listing when there are extra headers to filter (rarely, on the hot path).
    let signed_names = if endpoint.headers.is_empty() {
        Vec::new()
    } else {
        signing.header_names()
    };
    // New endpoints cannot name the trace headers or their scheme's; one stored before
    // they were reserved (or whose scheme changed by hand) still loads, so they are
    // dropped here rather than sent beside (or instead of) ours.
    let mut headers: Vec<(String, String)> = endpoint
        .headers
        .iter()
        .filter(|(name, _)| *name != HEADER_TRACEPARENT && *name != HEADER_TRACESTATE)
        .filter(|(name, _)| !signed_names.contains(name))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    headers.extend([
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
        (HEADER_WEBHOOK_ATTEMPT.to_owned(), attempt.to_string()),
    ]);
    if let Some(trace) = trace {
        headers.extend(trace.headers().into_iter().map(|(n, v)| (n.to_owned(), v)));
    }
    let message = Message {
        id: signed.id,
        event_type: signed.event_type,
        at: now,
        body,
    };
    headers.extend(signing.sign(&endpoint.signing_secrets(now), &message));
    headers
}
