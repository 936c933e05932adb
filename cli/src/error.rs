//! What can go wrong in a command, worded for the person at the terminal, and the exit code
//! each failure maps to (2 for misuse caught before anything was sent, 1 for the rest).

use std::process::ExitCode;

use authhooks::local::LocalError;

/// A command's failure. Never carries a secret: variants hold messages built by this crate
/// from values that are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An argument's value is unusable (bad secret format, invalid JSON, a missing value).
    #[error("{0}")]
    Usage(String),
    /// No HTTP answer at all: refused, reset, DNS, timeout.
    #[error("cannot reach {url}: {reason} — is `authhooks dev` running?")]
    Unreachable { url: String, reason: String },
    /// The server answered with an error status.
    #[error("{}", api_message(.status, .message, .errors, .hint))]
    Api {
        status: u16,
        message: String,
        /// `(field, message)` pairs from a problem+json `errors` list.
        errors: Vec<(String, String)>,
        hint: Option<&'static str>,
    },
    /// The server answered with a success status but not in the documented shape.
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// A failure of a step that needs naming ("endpoint ep_… was not removed").
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<CliError>,
    },
    /// Local mode could not start (`authhooks dev`).
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

fn api_message(
    status: &u16,
    message: &str,
    errors: &[(String, String)],
    hint: &Option<&'static str>,
) -> String {
    let mut text = format!("{message} (HTTP {status})");
    if !errors.is_empty() {
        let listed: Vec<String> = errors
            .iter()
            .map(|(field, message)| {
                if field.is_empty() {
                    message.clone()
                } else {
                    format!("{field}: {message}")
                }
            })
            .collect();
        text.push_str(": ");
        text.push_str(&listed.join("; "));
    }
    if let Some(hint) = hint {
        text.push_str(" — ");
        text.push_str(hint);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_list_fields_on_one_line() {
        let err = CliError::Api {
            status: 422,
            message: "the endpoint is invalid".into(),
            errors: vec![
                ("url".into(), "must use https".into()),
                ("event_types".into(), "is required".into()),
            ],
            hint: None,
        };
        assert_eq!(
            err.to_string(),
            "the endpoint is invalid (HTTP 422): url: must use https; event_types: is required"
        );
    }

    #[test]
    fn unauthorized_carries_its_hint() {
        let err = CliError::Api {
            status: 401,
            message: "Unauthorized".into(),
            errors: vec![],
            hint: Some("check --admin-token"),
        };
        assert_eq!(
            err.to_string(),
            "Unauthorized (HTTP 401) — check --admin-token"
        );
    }
}
