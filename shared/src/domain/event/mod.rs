//! The event envelope producers send to ingest (docs/architecture.md §3.1) as typed values;
//! `submission` parses request bodies into them.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::EventId;
pub use super::submission::{parse_submission, EventLimits, SubmissionError};
pub use data::Data;

mod data;

const MAX_TYPE_CHARS: usize = 128;
const MIN_TYPE_SEGMENTS: usize = 2;
const MAX_TYPE_SEGMENTS: usize = 6;
pub(super) const MAX_LABEL_CHARS: usize = 256;
pub(super) const LABEL_FIELDS: [&str; 4] = ["origin", "subject", "tenant_id", "correlation_id"];

/// The documented catalogue; other well-formed types are accepted too.
#[rustfmt::skip]
pub const KNOWN_EVENT_TYPES: &[&str] = &[
    "user.created", "user.updated", "user.deleted", "user.banned", "user.unbanned",
    "session.created", "session.revoked",
    "oauth_client.registered", "oauth_client.rotated", "oauth_client.deleted",
    "api_key.created", "api_key.revoked",
];

/// `user.created`: 2–6 dot-separated lowercase segments of `[a-z0-9_]+`, ≤ 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventType(String);

impl EventType {
    /// Checks the grammar, naming every rule the value breaks.
    pub fn parse(s: &str) -> Result<EventType, String> {
        check_type(s).map(|()| EventType(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_type(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    let chars = s.chars().count();
    if chars > MAX_TYPE_CHARS {
        return Err(format!(
            "must be at most {MAX_TYPE_CHARS} characters, not {chars}"
        ));
    }
    let mut problems = Vec::new();
    let segments = s.split('.').count();
    if !(MIN_TYPE_SEGMENTS..=MAX_TYPE_SEGMENTS).contains(&segments) {
        problems.push(format!(
            "must have {MIN_TYPE_SEGMENTS} to {MAX_TYPE_SEGMENTS} dot-separated segments, \
             not {segments}"
        ));
    }
    if s.split('.').any(str::is_empty) {
        problems.push("must not have an empty segment (a leading, trailing or doubled dot)".into());
    }
    if !s
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.'))
    {
        problems.push("segments may contain only lowercase letters, digits and '_'".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

impl TryFrom<String> for EventType {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        check_type(&value).map(|()| EventType(value))
    }
}

impl From<EventType> for String {
    fn from(event_type: EventType) -> String {
        event_type.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The type namespace authhooks keeps for its own operational events (domain::operational);
/// producers cannot post in it, and `*` does not select it.
pub const OPERATIONAL_NAMESPACE: &str = "authhooks.";

/// Whether `event_type` is one of authhooks' own.
pub fn is_operational(event_type: &str) -> bool {
    event_type.starts_with(OPERATIONAL_NAMESPACE)
}

/// An event as normalized at ingest; its JSON form is the body every endpoint receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: DateTime<Utc>,
    /// The producer's JSON object, byte for byte but for whitespace between tokens.
    pub data: Data,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Stamped by ingest, increasing in acceptance order
    /// ([`next_sequence`](super::order::next_sequence)): what a receiver compares to drop
    /// a stale update of the subject ([`freshness`](super::order::freshness)). Producers
    /// cannot set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

impl Event {
    /// The normalized JSON body delivered to endpoints: byte-for-byte what
    /// `serde_json::to_vec(self)` produces (a test holds the two together).
    ///
    /// Written out field by field because every piece goes through `Value`'s `Display` or is
    /// `data`'s own text, which cannot fail, whereas `to_vec` returns a `Result` whose error
    /// no `Event` can trigger and no caller could act on.
    pub fn to_body(&self) -> Vec<u8> {
        let text = |s: &str| Value::String(s.to_owned()).to_string();
        let timestamp = self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let mut body = format!(
            r#"{{"id":{},"type":{},"timestamp":{},"data":{}"#,
            text(self.id.as_str()),
            text(self.event_type.as_str()),
            text(&timestamp),
            self.data.as_str(),
        );
        let labels = [
            &self.origin,
            &self.subject,
            &self.tenant_id,
            &self.correlation_id,
        ];
        for (name, value) in LABEL_FIELDS.into_iter().zip(labels) {
            if let Some(value) = value {
                body.push_str(&format!(r#","{name}":{}"#, text(value)));
            }
        }
        if let Some(sequence) = self.sequence {
            body.push_str(&format!(r#","sequence":{sequence}"#));
        }
        body.push('}');
        body.into_bytes()
    }
}

#[cfg(test)]
mod tests;
