//! Validation of an endpoint's extra headers: RFC 9110 token names, visible-ASCII values
//! (no CR, LF or NUL, so no header injection) and names the sender reserves for itself.

use std::collections::BTreeMap;

use super::{ExtraHeaders, MAX_HEADERS, MAX_HEADER_NAME_CHARS, MAX_HEADER_VALUE_CHARS};
use crate::domain::trace::{HEADER_TRACEPARENT, HEADER_TRACESTATE};
use crate::domain::validation::{escaped_field_path, FieldError};

/// Headers the sender owns: the Standard Webhooks ones (any `webhook-*`), body framing, and
/// hop-by-hop or proxy headers that would change how the request travels.
const RESERVED_HEADERS: [&str; 14] = [
    "content-type",
    "content-length",
    "content-encoding",
    "host",
    "user-agent",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "trailer",
    "expect",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
];

/// W3C Trace Context headers: the worker sends the producer's trace, which an endpoint's
/// fixed value must not replace.
const TRACE_HEADERS: [&str; 2] = [HEADER_TRACEPARENT, HEADER_TRACESTATE];

impl ExtraHeaders {
    /// Validates `(name, value)` pairs, reporting every problem with its path
    /// (`headers.x-foo`): at most 20 headers; names are RFC 9110 tokens of at most 64
    /// characters, unique ignoring case, not reserved (`webhook-*`, framing, hop-by-hop,
    /// `traceparent` and `tracestate`);
    /// values are at most 1024 characters of visible ASCII, space and tab, so no CR, LF or
    /// NUL can start a header of its own. Names are stored lower-cased.
    ///
    /// Names with `_` are refused too: CGI-style receivers (PHP, WSGI, Rack) turn `-` and `_`
    /// alike into `_`, so `webhook_signature` would reach them as the real signature header.
    pub fn validate<'a, I>(entries: I, field: &str) -> Result<ExtraHeaders, Vec<FieldError>>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let entries: Vec<(&str, &str)> = entries.into_iter().collect();
        let underscores = entries
            .iter()
            .filter(|(name, _)| name.contains('_'))
            .map(|(name, _)| {
                let message = "header name must not contain '_': receivers that read headers \
                               CGI-style take it for '-'";
                FieldError::new(escaped_field_path(field, name), message)
            });
        // Reserved for new endpoints only: one stored with them before keeps loading, and
        // the request builder drops them (webhook::headers).
        let trace = entries
            .iter()
            .filter(|(name, _)| TRACE_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .map(|(name, _)| {
                let message = "is reserved: authhooks sends the trace context it received";
                FieldError::new(escaped_field_path(field, name), message)
            });
        let mut errors: Vec<FieldError> = underscores.chain(trace).collect();
        match Self::validate_stored(entries, field) {
            Ok(headers) if errors.is_empty() => Ok(headers),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }

    /// The checks a stored endpoint's headers pass when loaded: those of [`Self::validate`]
    /// but `_`, which was allowed before, so that no stored endpoint stops loading.
    fn validate_stored<'a, I>(entries: I, field: &str) -> Result<ExtraHeaders, Vec<FieldError>>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut headers = BTreeMap::new();
        let mut errors = Vec::new();
        let mut count = 0usize;
        for (name, value) in entries {
            count += 1;
            let path = escaped_field_path(field, name);
            let lower = name.to_ascii_lowercase();
            if let Err(message) = check_header_name(&lower) {
                errors.push(FieldError::new(&path, message));
            }
            if let Err(message) = check_header_value(value) {
                errors.push(FieldError::new(&path, message));
            }
            if headers.insert(lower, value.to_owned()).is_some() {
                errors.push(FieldError::new(
                    &path,
                    "is given twice (header names ignore case)",
                ));
            }
        }
        if count > MAX_HEADERS {
            errors.push(FieldError::new(
                field,
                format!("must have at most {MAX_HEADERS} headers"),
            ));
        }
        if errors.is_empty() {
            Ok(Self(headers))
        } else {
            Err(errors)
        }
    }

    /// `(name, value)` pairs, names lower-cased, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_header_name(lower: &str) -> Result<(), String> {
    const TOKEN_PUNCTUATION: &[u8] = b"!#$%&'*+-.^_`|~";
    if lower.is_empty() {
        return Err("header name must not be empty".into());
    }
    if lower.chars().count() > MAX_HEADER_NAME_CHARS {
        return Err(format!(
            "header name must be at most {MAX_HEADER_NAME_CHARS} characters"
        ));
    }
    if !lower
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || TOKEN_PUNCTUATION.contains(&b))
    {
        return Err(
            "header name must be an HTTP token: letters, digits and !#$%&'*+-.^_`|~".into(),
        );
    }
    if lower.starts_with("webhook-") {
        return Err("webhook-* headers are reserved for the Standard Webhooks headers".into());
    }
    if RESERVED_HEADERS.contains(&lower) {
        return Err("is reserved: authhooks sets it".into());
    }
    Ok(())
}

fn check_header_value(value: &str) -> Result<(), String> {
    if value.len() > MAX_HEADER_VALUE_CHARS {
        return Err(format!(
            "header value must be at most {MAX_HEADER_VALUE_CHARS} characters"
        ));
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(
            "header value may contain only visible ASCII, spaces and tabs (no CR, LF or NUL)"
                .into(),
        );
    }
    Ok(())
}

impl TryFrom<BTreeMap<String, String>> for ExtraHeaders {
    type Error = String;
    fn try_from(map: BTreeMap<String, String>) -> Result<Self, String> {
        Self::validate_stored(map.iter().map(|(k, v)| (k.as_str(), v.as_str())), "headers").map_err(
            |errors| {
                let messages: Vec<String> = errors
                    .into_iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                messages.join("; ")
            },
        )
    }
}

impl From<ExtraHeaders> for BTreeMap<String, String> {
    fn from(headers: ExtraHeaders) -> Self {
        headers.0
    }
}
