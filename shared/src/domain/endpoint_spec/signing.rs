//! The `signing` field of an endpoint body: a scheme by name and, for the compatibility
//! schemes, the header names their receivers read; and the rule that an endpoint's extra
//! headers never name a header its scheme sends.

use serde_json::Value;

use crate::domain::endpoint::{escaped_field_path, ExtraHeaders};
use crate::domain::signature::{
    Scheme, Signing, HEADER_X_WEBHOOK_DELIVERY, HEADER_X_WEBHOOK_EVENT,
};
use crate::domain::validation::Errors;
use crate::domain::validation::{field_path, FieldError};

const F: &str = "signing";

pub(super) fn signing(v: &Value, e: &mut Errors) -> Option<Signing> {
    let obj = e.object(F, v)?;
    let before = e.0.len();
    e.only(F, obj, &["scheme", "signature_header", "timestamp_header"]);
    e.require(F, obj, &["scheme"]);
    let scheme = obj.get("scheme").and_then(|v| {
        let path = field_path(F, "scheme");
        let name = e.string(&path, v)?;
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.name()).collect();
        let message = format!("must be one of {}", names.join(", "));
        e.take(&path, Scheme::parse(name).ok_or(message))
    });
    let mut header = |key: &str, allowed: Option<bool>| -> Option<String> {
        let v = obj.get(key).filter(|v| !v.is_null())?;
        let path = field_path(F, key);
        let name = e.string(&path, v)?;
        if allowed == Some(false) {
            e.push(&path, "is not used by this scheme");
            return None;
        }
        match ExtraHeaders::validate([(name, "")], &path) {
            Ok(_) => Some(name.to_ascii_lowercase()),
            Err(errors) => {
                // Reported at the field itself, not at a path under it.
                for error in errors {
                    e.push(&path, error.message);
                }
                None
            }
        }
    };
    let signature_header = header("signature_header", scheme.map(Scheme::names_its_headers));
    let timestamp_header = header("timestamp_header", scheme.map(Scheme::has_timestamp_header));
    let signing = Signing {
        scheme: scheme?,
        signature_header,
        timestamp_header,
    };
    let mut rules = Vec::new();
    let fixed = [HEADER_X_WEBHOOK_EVENT, HEADER_X_WEBHOOK_DELIVERY];
    for (key, name) in [
        ("signature_header", &signing.signature_header),
        ("timestamp_header", &signing.timestamp_header),
    ] {
        if name.as_deref().is_some_and(|n| fixed.contains(&n)) {
            rules.push(FieldError::new(
                field_path(F, key),
                "is a header every compatibility scheme sends for itself",
            ));
        }
    }
    if signing.signature_header.is_some() && signing.signature_header == signing.timestamp_header {
        rules.push(FieldError::new(
            field_path(F, "timestamp_header"),
            "must differ from signature_header",
        ));
    }
    e.validated(before, rules, signing)
}

/// Extra headers that name a header the scheme sends, as errors under `headers`.
pub(super) fn clashes(headers: &ExtraHeaders, signing: &Signing) -> Vec<FieldError> {
    let sent = signing.header_names();
    headers
        .iter()
        .filter(|(name, _)| sent.contains(name))
        .map(|(name, _)| {
            let message = format!("is sent by the {} signing scheme", signing.scheme.name());
            FieldError::new(escaped_field_path("headers", name), message)
        })
        .collect()
}
