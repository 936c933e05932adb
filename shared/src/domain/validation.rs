//! Field-level validation errors, reported all at once rather than first-error-wins.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One violated rule: which field (a JSON path such as `events[2].type`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Joins a parent path and a child field name (`""` + `type` = `type`, `events[0]` + `type`
/// = `events[0].type`).
pub fn field_path(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// The field path of a user-chosen key (`headers.x-foo`), control characters escaped so that
/// an injection attempt is reported without being performed in a log line.
pub(crate) fn escaped_field_path(field: &str, name: &str) -> String {
    let printable: String = name
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    field_path(field, &printable)
}

/// Checks a free-text label (origin, tenant, subject, correlation id, description):
/// non-empty, bounded, and free of control characters that could corrupt logs or headers.
pub fn check_label(value: &str, max_chars: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A request body that must be a JSON object, its fields to read.
pub(crate) fn body_object(body: &Value) -> Result<&Map<String, Value>, Vec<FieldError>> {
    body.as_object()
        .ok_or_else(|| vec![FieldError::new("", "must be a JSON object")])
}

/// Collects field errors; each reader returns `None` after recording why, so a body's
/// every fault is reported at once (endpoint and source bodies alike).
#[derive(Default)]
pub(crate) struct Errors(pub(crate) Vec<FieldError>);

impl Errors {
    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub(crate) fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.push(field, message)).ok()
    }

    pub(crate) fn kind<T>(&mut self, field: &str, value: Option<T>, what: &str) -> Option<T> {
        if value.is_none() {
            self.push(field, format!("must be {what}"));
        }
        value
    }

    pub(crate) fn string<'v>(&mut self, field: &str, v: &'v Value) -> Option<&'v str> {
        self.kind(field, v.as_str(), "a string")
    }

    pub(crate) fn boolean(&mut self, field: &str, v: &Value) -> Option<bool> {
        self.kind(field, v.as_bool(), "a boolean")
    }

    pub(crate) fn integer(&mut self, field: &str, v: &Value) -> Option<u64> {
        self.kind(field, v.as_u64(), "a non-negative integer")
    }

    pub(crate) fn u32(&mut self, field: &str, v: &Value) -> Option<u32> {
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        self.kind(field, n, "an integer from 0 to 4294967295")
    }

    pub(crate) fn number(&mut self, field: &str, v: &Value) -> Option<f64> {
        self.kind(field, v.as_f64(), "a number")
    }

    pub(crate) fn array<'v>(&mut self, field: &str, v: &'v Value) -> Option<&'v Vec<Value>> {
        self.kind(field, v.as_array(), "an array")
    }

    pub(crate) fn object<'v>(
        &mut self,
        field: &str,
        v: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        self.kind(field, v.as_object(), "an object")
    }

    /// A nullable free-text label: `null` clears it.
    pub(crate) fn label(
        &mut self,
        field: &str,
        v: &Value,
        max_chars: usize,
    ) -> Option<Option<String>> {
        if v.is_null() {
            return Some(None);
        }
        let s = self.string(field, v)?;
        self.take(
            field,
            check_label(s, max_chars).map(|()| Some(s.to_owned())),
        )
    }

    /// Reports every key of `obj` outside `allowed` as unknown.
    pub(crate) fn only(&mut self, parent: &str, obj: &Map<String, Value>, allowed: &[&str]) {
        for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.push(&escaped_field_path(parent, key), "unknown field");
        }
    }

    pub(crate) fn require(&mut self, parent: &str, obj: &Map<String, Value>, keys: &[&str]) {
        for key in keys.iter().filter(|k| !obj.contains_key(**k)) {
            self.push(&field_path(parent, key), "is required");
        }
    }

    /// `value` if neither its reader (errors since `before`) nor its own rules found fault.
    pub(crate) fn validated<T>(
        &mut self,
        before: usize,
        rules: Vec<FieldError>,
        value: T,
    ) -> Option<T> {
        self.0.extend(rules);
        (self.0.len() == before).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_dots() {
        assert_eq!(field_path("", "type"), "type");
        assert_eq!(field_path("events[3]", "data"), "events[3].data");
    }

    #[test]
    fn labels_reject_empty_long_and_control() {
        assert!(check_label("acme", 8).is_ok());
        assert!(check_label("", 8).is_err());
        assert!(check_label("123456789", 8).is_err());
        assert!(check_label("a\nb", 8).is_err());
    }
}
