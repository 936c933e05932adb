//! One inbound request through a source: what its script is given, what its answer must
//! be (an event, an array of events, or nothing), the submission ingest then validates,
//! and what is recorded when the script or its events fail.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Source;
use crate::domain::ids::{InboundFailureId, SourceId};

/// Request headers a script never sees: credentials meant for a proxy or a session, not
/// for a mapping.
const WITHHELD_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];
/// How much of a failed request's body its failure record keeps.
pub const MAX_RECORDED_BODY_BYTES: usize = 64 * 1024;

/// An inbound request as the source receives it.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// Lower-case names; a repeated header once, its values joined by `, `.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub received_at: DateTime<Utc>,
}

/// The request's identity for idempotency: the same body posted to the same source again
/// (a provider's retry) maps to the same generated event ids, so it is a duplicate rather
/// than new events (§3.1).
pub fn request_id(source: &SourceId, body: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(source.as_str())
        .chain_update([0u8])
        .chain_update(body)
        .finalize();
    format!("in_{}", hex::encode(&digest[..16]))
}

/// The script's `request`, as JSON: `body` (the parsed JSON, or `null` when the body is
/// none), `raw` (the body as text, or `null` when it is not UTF-8), `headers`, `source`
/// (`id`, `name`) and `received_at`.
pub fn script_input(source: &Source, request: &InboundRequest<'_>) -> String {
    let raw = std::str::from_utf8(request.body).ok();
    let body = raw
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .unwrap_or(Value::Null);
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .filter(|(name, _)| !WITHHELD_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let input = serde_json::json!({
        "body": body,
        "raw": raw,
        "headers": headers,
        "source": { "id": source.id.as_str(), "name": source.name },
        "received_at": request.received_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    input.to_string()
}

/// The submission (`{"events": […]}`) a script's answer makes, each event stamped with
/// `origin` where the source sets one; `Ok(None)` when it returned nothing to send
/// (`null`, `undefined`, `[]`). Whether the events are valid is ingest's to say.
pub fn submission(output: Option<&str>, origin: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    let Some(output) = output else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(output).map_err(|e| e.to_string())?;
    let mut events = match value {
        Value::Array(events) => events,
        Value::Object(_) => vec![value],
        other => {
            return Err(format!(
                "the handler must return an event, an array of events or null, not {}",
                kind(&other)
            ))
        }
    };
    if events.is_empty() {
        return Ok(None);
    }
    if let Some(origin) = origin {
        for event in &mut events {
            if let Value::Object(fields) = event {
                fields.insert("origin".into(), Value::String(origin.to_owned()));
            }
        }
    }
    Ok(Some(
        serde_json::json!({ "events": events })
            .to_string()
            .into_bytes(),
    ))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What went wrong with an inbound request the source accepted (its signature was good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The script threw, ran out of time or memory, or answered something that is no
    /// event list.
    Script,
    /// The script's events did not validate as `POST /v1/events` would take them.
    Events,
}

/// A failed inbound request, kept for seven days for the console and `authhooks sources
/// errors`: what failed, what the script logged, and the body (its first 64 KiB), so the
/// request can be looked at and the script fixed. Headers are not kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFailure {
    pub id: InboundFailureId,
    pub source_id: SourceId,
    pub at: DateTime<Utc>,
    pub kind: FailureKind,
    pub error: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// The body as text (lossy where it is not UTF-8), cut at 64 KiB.
    pub body: String,
    #[serde(default)]
    pub body_truncated: bool,
}

impl SourceFailure {
    /// `random` makes its id unique among failures of the same millisecond.
    pub fn new(
        source: &SourceId,
        request: &InboundRequest<'_>,
        (kind, error): (FailureKind, String),
        logs: Vec<String>,
        random: u128,
    ) -> Self {
        let kept = &request.body[..request.body.len().min(MAX_RECORDED_BODY_BYTES)];
        Self {
            id: InboundFailureId::generate(request.received_at, random),
            source_id: source.clone(),
            at: request.received_at,
            kind,
            error,
            logs,
            body: String::from_utf8_lossy(kept).into_owned(),
            body_truncated: kept.len() < request.body.len(),
        }
    }
}
