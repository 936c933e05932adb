//! The outgoing webhook request (docs/architecture.md §3.3): the body and the Standard Webhooks headers,
//! signed with every secret the endpoint currently accepts.

use chrono::{DateTime, Utc};

use super::delivery::DeliveryJob;
use super::endpoint::Endpoint;
use super::signature::{sign_headers, HEADER_WEBHOOK_ATTEMPT};
use super::trace::{TraceParent, HEADER_TRACEPARENT, HEADER_TRACESTATE};

/// `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("authhooks/", env!("CARGO_PKG_VERSION"));

/// The headers of attempt number `attempt` of `job`, signed at `now`, continuing `trace`
/// (the attempt's child of the job's trace context) when there is one. The signature
/// headers come last and extra headers cannot name them (the endpoint model refuses it).
pub fn headers(
    endpoint: &Endpoint,
    job: &DeliveryJob,
    attempt: u32,
    body: &[u8],
    now: DateTime<Utc>,
    trace: Option<&TraceParent>,
) -> Vec<(String, String)> {
    let msg_id = job.event.id.as_str();
    let timestamp = now.timestamp();
    // New endpoints cannot name the trace headers; one stored before they were reserved
    // still loads, so they are dropped here rather than sent beside (or instead of) ours.
    let mut headers: Vec<(String, String)> = endpoint
        .headers
        .iter()
        .filter(|(name, _)| *name != HEADER_TRACEPARENT && *name != HEADER_TRACESTATE)
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
    let signed = sign_headers(endpoint.signing_secrets(now), msg_id, timestamp, body);
    headers.extend(signed.map(|(name, value)| (name.to_owned(), value)));
    headers
}
