//! Parsing what a producer posts to ingest — one event or `{"events": [...]}` — into
//! normalized [`Event`]s, every field error of every event reported together.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::event::{Data, Event, EventType, LABEL_FIELDS, MAX_LABEL_CHARS};
use super::ids::EventId;
use super::json::{check_strict, Strictness, DUPLICATE_KEY, MAX_DEPTH};
use super::operational::{is_operational, NAMESPACE};
use super::validation::{check_label, field_path, FieldError};

/// Size bounds for one request; one event fits one SQS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLimits {
    /// Normalized JSON size of one event.
    pub max_event_bytes: usize,
    /// Events in one `{"events": [...]}` batch.
    pub max_batch: usize,
    /// The raw request body.
    pub max_body_bytes: usize,
}

impl Default for EventLimits {
    fn default() -> Self {
        Self {
            max_event_bytes: 64 * 1024,
            max_batch: 100,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Why a submission was refused, by the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmissionError {
    /// Not UTF-8, not JSON, or not a JSON object (400).
    #[error("malformed request body: {0}")]
    Malformed(String),
    /// The body, or an event once normalized, is over its limit (413).
    #[error("too large: {0}")]
    TooLarge(String),
    /// Well-formed JSON that breaks the envelope's rules, every violation listed (422).
    #[error("invalid event: {}", describe(.0))]
    Invalid(Vec<FieldError>),
}

fn describe(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    parts.join("; ")
}

/// Parses a request body holding one event or `{"events": [...]}` into normalized events.
///
/// Missing ids are generated from `now` and `random()`, missing timestamps become `now`.
/// Field errors from every event are reported together; size is only judged once the
/// batch is otherwise valid, since a caller has to fix the fields either way.
pub fn parse_submission(
    body: &[u8],
    limits: &EventLimits,
    now: DateTime<Utc>,
    random: &mut dyn FnMut() -> u128,
) -> Result<Vec<Event>, SubmissionError> {
    if body.len() > limits.max_body_bytes {
        return Err(SubmissionError::TooLarge(format!(
            "the request body is {} bytes; the limit is {} bytes",
            body.len(),
            limits.max_body_bytes
        )));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        SubmissionError::Malformed(format!("not valid UTF-8 (at byte {})", e.valid_up_to()))
    })?;
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|e| SubmissionError::Malformed(format!("not valid JSON: {e}")))?;
    // `data` stays raw text, so depth is bounded here rather than by serde_json's parser.
    match check_strict(raw.get()) {
        Ok(()) => {}
        Err(Strictness::TooDeep) => {
            return Err(SubmissionError::Malformed(format!(
                "nested too deeply: the recursion limit is {MAX_DEPTH} levels"
            )))
        }
        Err(Strictness::BadString(e)) => {
            return Err(SubmissionError::Malformed(format!("not valid JSON: {e}")))
        }
        Err(Strictness::NumberOutOfRange(number)) => {
            return Err(SubmissionError::Malformed(format!(
                "not valid JSON: number out of range: {number}"
            )))
        }
        Err(Strictness::DuplicateKey(path)) => {
            let error = FieldError::new(path, DUPLICATE_KEY);
            return Err(SubmissionError::Invalid(vec![error]));
        }
    }
    let Some(mut top) = object(raw) else {
        return Err(SubmissionError::Malformed(
            "must be a JSON object: one event, or {\"events\": [...]}".into(),
        ));
    };

    let mut parser = Parser {
        now,
        random,
        errors: Vec::new(),
    };
    let events = match top.remove("events") {
        Some(batch) => {
            for key in top.keys() {
                let only = "unknown field (a batch carries only `events`)";
                parser.fail("", key, only.into());
            }
            parser.batch(batch, limits.max_batch)
        }
        None => parser.event(top, String::new()).into_iter().collect(),
    };
    if !parser.errors.is_empty() {
        return Err(SubmissionError::Invalid(parser.errors));
    }

    let oversized: Vec<String> = events
        .iter()
        .filter_map(|(path, event)| {
            let size = event.to_body().len();
            let name = if path.is_empty() { "the event" } else { path };
            (size > limits.max_event_bytes).then(|| format!("{name} is {size} bytes"))
        })
        .collect();
    if !oversized.is_empty() {
        return Err(SubmissionError::TooLarge(format!(
            "{} once normalized; the limit is {} bytes per event",
            oversized.join(", "),
            limits.max_event_bytes
        )));
    }
    Ok(events.into_iter().map(|(_, event)| event).collect())
}

/// Validation state for one submission: every violation lands in `errors`.
struct Parser<'r> {
    now: DateTime<Utc>,
    random: &'r mut dyn FnMut() -> u128,
    errors: Vec<FieldError>,
}

impl Parser<'_> {
    fn fail(&mut self, path: &str, name: &str, message: String) {
        self.errors
            .push(FieldError::new(field_path(path, name), message));
    }

    fn ok<T>(&mut self, path: &str, name: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.fail(path, name, m)).ok()
    }

    /// The valid events of a batch with their paths (`events[i]`).
    fn batch(&mut self, batch: &RawValue, max_batch: usize) -> Vec<(String, Event)> {
        let items = match <Vec<&RawValue>>::deserialize(batch) {
            // Per-event checks are skipped for a wrong count: listing every error of
            // thousands of events would only bury the one that matters.
            Ok(items) if (1..=max_batch).contains(&items.len()) => items,
            Ok(items) => {
                let count = format!("must hold 1 to {max_batch} events, not {}", items.len());
                self.fail("", "events", count);
                return Vec::new();
            }
            Err(_) => {
                self.fail("", "events", "must be an array of events".into());
                return Vec::new();
            }
        };
        let mut events = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let path = format!("events[{index}]");
            match object(item) {
                Some(fields) => events.extend(self.event(fields, path)),
                None => self.errors.push(FieldError::new(path, "must be an object")),
            }
        }
        let mut seen = HashSet::new();
        for (path, event) in &events {
            if !seen.insert(event.id.as_str()) {
                let duplicate = FieldError::new(field_path(path, "id"), "duplicate id in batch");
                self.errors.push(duplicate);
            }
        }
        events
    }

    /// One event's fields, consumed as they are checked so that what is left is unknown.
    fn event(&mut self, mut fields: Fields<'_>, path: String) -> Option<(String, Event)> {
        let before = self.errors.len();
        let p = path.as_str();
        let (type_key, type_value) = match (fields.remove("type"), fields.remove("event")) {
            (Some(value), alias) => {
                if alias.is_some() {
                    let both = "must not be sent together with `type`, whose alias it is";
                    self.fail(p, "event", both.into());
                }
                ("type", Some(value))
            }
            (None, None) => ("type", None),
            (None, alias) => ("event", alias),
        };
        let event_type = match type_value.map(string) {
            // A producer's event must not pass for one of authhooks' own notices.
            Some(Some(s)) if is_operational(&s) => Err(format!(
                "the {NAMESPACE}* types are authhooks' own operational events; producers \
                 cannot send them"
            )),
            Some(Some(s)) => EventType::try_from(s),
            Some(None) => Err("must be a string".into()),
            None => Err("is required".into()),
        };
        let event_type = self.ok(p, type_key, event_type);
        let id = self.ok(p, "id", optional(fields.remove("id"), EventId::try_from));
        let timestamp = optional(fields.remove("timestamp"), |s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    format!("must be an RFC 3339 date-time like 2026-11-22T10:00:00Z ({e})")
                })
        });
        let timestamp = self.ok(p, "timestamp", timestamp);
        let data = match fields.remove("data") {
            Some(raw) => Data::from_raw(raw),
            None => Err("is required".into()),
        };
        let data = self.ok(p, "data", data);
        let [origin, subject, tenant_id, correlation_id] = LABEL_FIELDS.map(|name| {
            let label = optional(fields.remove(name), |s| {
                check_label(&s, MAX_LABEL_CHARS).map(|()| s)
            });
            self.ok(p, name, label).flatten()
        });
        for name in fields.keys() {
            self.fail(p, name, "unknown field".into());
        }

        if self.errors.len() > before {
            return None;
        }
        let id = id.flatten();
        let event = Event {
            id: id.unwrap_or_else(|| EventId::generate(self.now, (self.random)())),
            event_type: event_type?,
            timestamp: timestamp.flatten().unwrap_or(self.now),
            data: data?,
            origin,
            subject,
            tenant_id,
            correlation_id,
            sequence: None,
        };
        Some((path, event))
    }
}

/// An object's members, each still raw JSON; `None` if `raw` is not an object. Duplicate
/// keys were refused before, so a map loses nothing.
type Fields<'a> = BTreeMap<String, &'a RawValue>;

fn object(raw: &RawValue) -> Option<Fields<'_>> {
    Fields::deserialize(raw).ok()
}

/// The string `raw` holds, if it is one.
fn string(raw: &RawValue) -> Option<String> {
    String::deserialize(raw).ok()
}

/// An optional string field; absent and `null` alike are `Ok(None)`.
fn optional<T>(
    value: Option<&RawValue>,
    parse: impl FnOnce(String) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match value {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => match string(raw) {
            Some(s) => parse(s).map(Some),
            None => Err("must be a string".into()),
        },
    }
}
