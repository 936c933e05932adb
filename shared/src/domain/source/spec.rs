//! The admin API's source bodies: create and patch, validated field by field with every
//! error reported at once, and the view returned to callers (no secret in it).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::verification::{Encoding, SourceSecret, Verification};
use super::Source;
use crate::domain::ids::SourceId;
use crate::domain::script::check_script;
use crate::domain::signature::Secret;
use crate::domain::validation::{body_object, Errors, FieldError};

pub const MAX_NAME_CHARS: usize = 128;
const MAX_ORIGIN_CHARS: usize = 256;
const MAX_DESCRIPTION_CHARS: usize = 1024;
const MAX_HEADER_CHARS: usize = 64;
const MAX_PREFIX_CHARS: usize = 32;
const DEFAULT_TIMESTAMPED_HEADER: &str = "x-webhook-signature";
const READ_ONLY: [&str; 4] = ["id", "created_at", "updated_at", "inbound_path"];

/// A source as the admin API shows it: every stored field but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub id: SourceId,
    pub name: String,
    pub verification: VerificationView,
    pub origin: Option<String>,
    pub script: String,
    pub enabled: bool,
    pub description: Option<String>,
    /// Where the sender posts: `POST {ingest URL}{inbound_path}`.
    pub inbound_path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A verification without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationView {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl Source {
    pub fn to_view(&self) -> SourceView {
        let v = &self.verification;
        let (header, encoding, prefix) = match v {
            Verification::StandardWebhooks { .. } | Verification::Stripe { .. } => {
                (None, None, None)
            }
            Verification::HmacTimestamped { header, .. } => (Some(header.clone()), None, None),
            Verification::HmacSha256 {
                header,
                encoding,
                prefix,
                ..
            } => (Some(header.clone()), Some(*encoding), prefix.clone()),
        };
        SourceView {
            id: self.id.clone(),
            name: self.name.clone(),
            verification: VerificationView {
                scheme: v.scheme().to_owned(),
                header,
                encoding,
                prefix,
            },
            origin: self.origin.clone(),
            script: self.script.clone(),
            enabled: self.enabled,
            description: self.description.clone(),
            inbound_path: format!("/v1/inbound/{}", self.id),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Validates a create body: `name`, `verification` and `script` are required. A
/// Standard Webhooks verification without a secret gets one made of `secret_bytes`, which
/// is returned to be shown once. Whether the script compiles is the caller's to check.
pub fn parse_new(
    body: &Value,
    now: DateTime<Utc>,
    random: u128,
    secret_bytes: [u8; 32],
) -> Result<(Source, Option<Secret>), Vec<FieldError>> {
    let obj = body_object(body)?;
    let mut e = Errors::default();
    let c = read_changes(obj, None, secret_bytes, &mut e);
    e.require("", obj, &["name", "verification", "script"]);
    if !e.0.is_empty() {
        return Err(e.0);
    }
    let (Some(name), Some((verification, generated)), Some(script)) =
        (c.name, c.verification, c.script)
    else {
        return Err(vec![FieldError::new("", "is not a valid source")]);
    };
    let source = Source {
        id: SourceId::generate(now, random),
        name,
        verification,
        origin: c.origin.flatten(),
        script,
        enabled: c.enabled.unwrap_or(true),
        description: c.description.flatten(),
        created_at: now,
        updated_at: now,
    };
    Ok((source, generated))
}

/// Validates a patch body and applies it to `current`: given fields change, `null` clears
/// `origin` and `description`, and `verification` is replaced whole — a Standard Webhooks
/// one without a secret keeps the current Standard Webhooks secret, or gets a new one
/// (returned).
pub fn apply_patch(
    current: &Source,
    body: &Value,
    now: DateTime<Utc>,
    secret_bytes: [u8; 32],
) -> Result<(Source, Option<Secret>), Vec<FieldError>> {
    let obj = body_object(body)?;
    let mut e = Errors::default();
    let c = read_changes(obj, Some(&current.verification), secret_bytes, &mut e);
    if !e.0.is_empty() {
        return Err(e.0);
    }
    let mut next = current.clone();
    next.name = c.name.unwrap_or(next.name);
    next.origin = c.origin.unwrap_or(next.origin);
    next.script = c.script.unwrap_or(next.script);
    next.enabled = c.enabled.unwrap_or(next.enabled);
    next.description = c.description.unwrap_or(next.description);
    let mut generated = None;
    if let Some((verification, secret)) = c.verification {
        next.verification = verification;
        generated = secret;
    }
    next.updated_at = now;
    Ok((next, generated))
}

/// The fields a body sets; `Some(None)` is an explicit `null` on a nullable field.
#[derive(Default)]
struct Changes {
    name: Option<String>,
    verification: Option<(Verification, Option<Secret>)>,
    origin: Option<Option<String>>,
    script: Option<String>,
    enabled: Option<bool>,
    description: Option<Option<String>>,
}

fn read_changes(
    body: &Map<String, Value>,
    current: Option<&Verification>,
    secret_bytes: [u8; 32],
    e: &mut Errors,
) -> Changes {
    let mut c = Changes::default();
    for (key, v) in body {
        let f = key.as_str();
        match f {
            "name" => {
                c.name = e
                    .label(f, v, MAX_NAME_CHARS)
                    .and_then(|name| e.kind(f, name, "a name, not null"))
            }
            "verification" => c.verification = verification(v, current, secret_bytes, e),
            "origin" => c.origin = e.label(f, v, MAX_ORIGIN_CHARS),
            "description" => c.description = e.label(f, v, MAX_DESCRIPTION_CHARS),
            "enabled" => c.enabled = e.boolean(f, v),
            "script" => {
                c.script = e
                    .string(f, v)
                    .and_then(|s| e.take(f, check_script(s).map(|()| s.to_owned())))
            }
            _ if READ_ONLY.contains(&f) => e.push(f, "is set by the server and cannot be given"),
            _ => e.push(f, "unknown field"),
        }
    }
    c
}

fn verification(
    v: &Value,
    current: Option<&Verification>,
    secret_bytes: [u8; 32],
    e: &mut Errors,
) -> Option<(Verification, Option<Secret>)> {
    const F: &str = "verification";
    let obj = e.object(F, v)?;
    let before = e.0.len();
    let field = |name: &str| format!("{F}.{name}");
    let scheme = match obj.get("scheme") {
        Some(s) => e.string(&field("scheme"), s)?,
        None => {
            e.push(&field("scheme"), "is required");
            return None;
        }
    };
    let text_secret = |e: &mut Errors| -> Option<SourceSecret> {
        match obj.get("secret") {
            Some(s) => e
                .string(&field("secret"), s)
                .and_then(|s| e.take(&field("secret"), SourceSecret::parse(s))),
            None => {
                e.push(
                    &field("secret"),
                    "is required: the secret the sender signs with",
                );
                None
            }
        }
    };
    let header = |e: &mut Errors, default: Option<&str>| -> Option<String> {
        match obj.get("header") {
            Some(h) => e
                .string(&field("header"), h)
                .and_then(|h| e.take(&field("header"), header_name(h))),
            None => {
                if default.is_none() {
                    e.push(&field("header"), "is required");
                }
                default.map(str::to_owned)
            }
        }
    };
    let parsed = match scheme {
        "standard-webhooks" => {
            e.only(F, obj, &["scheme", "secret"]);
            let (secret, generated) = match obj.get("secret") {
                Some(s) => {
                    let secret = e.string(&field("secret"), s).and_then(|s| {
                        e.take(
                            &field("secret"),
                            Secret::parse(s).map_err(|err| err.to_string()),
                        )
                    });
                    (secret, None)
                }
                None => match current {
                    Some(Verification::StandardWebhooks { secret }) => (Some(secret.clone()), None),
                    _ => {
                        let secret = Secret::generate(secret_bytes);
                        (Some(secret.clone()), Some(secret))
                    }
                },
            };
            secret.map(|secret| (Verification::StandardWebhooks { secret }, generated))
        }
        "stripe" => {
            e.only(F, obj, &["scheme", "secret"]);
            text_secret(e).map(|secret| (Verification::Stripe { secret }, None))
        }
        "hmac-timestamped" => {
            e.only(F, obj, &["scheme", "header", "secret"]);
            let header = header(e, Some(DEFAULT_TIMESTAMPED_HEADER));
            let secret = text_secret(e);
            header
                .zip(secret)
                .map(|(header, secret)| (Verification::HmacTimestamped { header, secret }, None))
        }
        "hmac-sha256" => {
            e.only(
                F,
                obj,
                &["scheme", "header", "encoding", "prefix", "secret"],
            );
            let header = header(e, None);
            let encoding = match obj.get("encoding") {
                None => Some(Encoding::Hex),
                Some(Value::String(s)) if s == "hex" => Some(Encoding::Hex),
                Some(Value::String(s)) if s == "base64" => Some(Encoding::Base64),
                Some(_) => {
                    e.push(&field("encoding"), "must be \"hex\" or \"base64\"");
                    None
                }
            };
            let prefix = match obj.get("prefix") {
                None | Some(Value::Null) => Some(None),
                Some(p) => e.label(&field("prefix"), p, MAX_PREFIX_CHARS),
            };
            let secret = text_secret(e);
            match (header, encoding, prefix, secret) {
                (Some(header), Some(encoding), Some(prefix), Some(secret)) => Some((
                    Verification::HmacSha256 {
                        header,
                        encoding,
                        prefix,
                        secret,
                    },
                    None,
                )),
                _ => None,
            }
        }
        _ => {
            e.push(
                &field("scheme"),
                "must be one of standard-webhooks, stripe, hmac-timestamped, hmac-sha256",
            );
            None
        }
    };
    e.validated(before, Vec::new(), parsed?)
}

/// A header name as senders' requests carry it: an RFC 9110 token, compared lower-case.
fn header_name(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_HEADER_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(format!(
            "must be a header name (letters, digits, `-`), at most {MAX_HEADER_CHARS} characters"
        ))
    }
}
