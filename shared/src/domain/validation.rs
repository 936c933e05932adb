//! Field-level validation errors, reported all at once rather than first-error-wins.

use serde::{Deserialize, Serialize};

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
