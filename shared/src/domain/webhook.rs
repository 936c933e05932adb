//! The outgoing webhook request (docs/architecture.md §3.3): the body and the Standard Webhooks headers,
//! signed with every secret the endpoint currently accepts.

use chrono::{DateTime, Utc};

use super::delivery::DeliveryJob;
use super::endpoint::Endpoint;
use super::signature::{sign_headers, HEADER_WEBHOOK_ATTEMPT};

/// `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("authhooks/", env!("CARGO_PKG_VERSION"));

/// The headers of attempt number `attempt` of `job`, signed at `now`. The signature
/// headers come last and extra headers cannot name them (the endpoint model refuses it).
pub fn headers(
    endpoint: &Endpoint,
    job: &DeliveryJob,
    attempt: u32,
    body: &[u8],
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let msg_id = job.event.id.as_str();
    let timestamp = now.timestamp();
    let mut headers: Vec<(String, String)> = endpoint
        .headers
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    headers.extend([
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
        (HEADER_WEBHOOK_ATTEMPT.to_owned(), attempt.to_string()),
    ]);
    let signed = sign_headers(endpoint.signing_secrets(now), msg_id, timestamp, body);
    headers.extend(signed.map(|(name, value)| (name.to_owned(), value)));
    headers
}
