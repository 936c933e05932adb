//! How a source's sender signs its requests, and the check of one: Standard Webhooks, or an
//! HMAC-SHA256 header in one of the styles providers use — Stripe's `Stripe-Signature: t=…,
//! v1=…`, the same shape under another header name, or a bare HMAC of the body in hex or
//! base64 (GitHub's `X-Hub-Signature-256: sha256=…`, Shopify's `X-Shopify-Hmac-Sha256`).
//! Every comparison is constant-time; a refusal never says what was expected.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;

use crate::domain::signature::{
    check_window, keyed_mac, parse_timestamp, timestamped_parts, verify, Secret, SignedHeaders,
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};

/// Stripe's header, and the tolerance its libraries apply to `t` (seconds).
pub const STRIPE_SIGNATURE_HEADER: &str = "stripe-signature";
pub const TOLERANCE_SECS: i64 = 300;
/// A provider's secret: any printable text of this many characters.
pub const MIN_SECRET_CHARS: usize = 8;
pub const MAX_SECRET_CHARS: usize = 256;

/// How a source's requests are signed, with the secret to check them against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case")]
pub enum Verification {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…` under a `whsec_` secret.
    StandardWebhooks { secret: Secret },
    /// `Stripe-Signature: t=<unix>,v1=<hex HMAC of "{t}.{body}">`, keyed with the secret's text.
    Stripe { secret: SourceSecret },
    /// The Stripe shape under another header (`x-webhook-signature` by default).
    HmacTimestamped {
        header: String,
        secret: SourceSecret,
    },
    /// `<prefix><hex or base64 HMAC of the body>` in `header`. Signs no time, so a captured
    /// request can be posted again: what it carries is then a duplicate (§3.16).
    HmacSha256 {
        header: String,
        encoding: Encoding,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        secret: SourceSecret,
    },
}

/// How an HMAC is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

/// A provider's signing secret, used as the HMAC key exactly as the provider shows it.
/// Never printed: `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceSecret(String);

impl SourceSecret {
    pub fn parse(s: &str) -> Result<SourceSecret, String> {
        let n = s.chars().count();
        if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) {
            return Err(format!(
                "must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"
            ));
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(SourceSecret(s.to_owned()))
    }

    /// The HMAC over `parts`, keyed with the secret's text as the provider signs.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        keyed_mac(self.0.as_bytes(), parts)
    }
}

impl fmt::Debug for SourceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SourceSecret(<redacted>)")
    }
}

impl Serialize for SourceSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SourceSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        SourceSecret::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why an inbound request was refused (401). Never holds a secret or an expected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundRejected {
    #[error("missing or unreadable {0} header")]
    MissingHeader(String),
    #[error("the {0} signature matches no secret")]
    NoMatch(String),
    #[error("the {0} header is malformed")]
    Malformed(String),
    #[error("the signed timestamp is more than {TOLERANCE_SECS} s from now")]
    Stale,
    #[error("{0}")]
    Standard(String),
}

impl Verification {
    pub fn scheme(&self) -> &'static str {
        match self {
            Verification::StandardWebhooks { .. } => "standard-webhooks",
            Verification::Stripe { .. } => "stripe",
            Verification::HmacTimestamped { .. } => "hmac-timestamped",
            Verification::HmacSha256 { .. } => "hmac-sha256",
        }
    }

    /// The header the signature arrives in.
    pub fn signature_header(&self) -> &str {
        match self {
            Verification::StandardWebhooks { .. } => HEADER_WEBHOOK_SIGNATURE,
            Verification::Stripe { .. } => STRIPE_SIGNATURE_HEADER,
            Verification::HmacTimestamped { header, .. }
            | Verification::HmacSha256 { header, .. } => header,
        }
    }

    /// Checks a request as its sender signed it. `header` answers a lower-case name.
    pub fn check<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), InboundRejected> {
        let name = self.signature_header();
        let need = |n: &str| header(n).ok_or_else(|| InboundRejected::MissingHeader(n.to_owned()));
        let signature = need(name)?;
        let no_match = || InboundRejected::NoMatch(name.to_owned());
        match self {
            Verification::StandardWebhooks { secret } => {
                let signed = SignedHeaders {
                    id: need(HEADER_WEBHOOK_ID)?,
                    timestamp: need(HEADER_WEBHOOK_TIMESTAMP)?,
                    signature,
                };
                verify([secret], &signed, body, now.timestamp(), TOLERANCE_SECS)
                    .map_err(|e| InboundRejected::Standard(e.to_string()))
            }
            Verification::Stripe { secret } | Verification::HmacTimestamped { secret, .. } => {
                let malformed = || InboundRejected::Malformed(name.to_owned());
                let (t, candidates) = timestamped_parts(signature);
                let t = t.ok_or_else(malformed)?;
                let at = parse_timestamp(t).map_err(|_| malformed())?;
                check_window(at, now.timestamp(), TOLERANCE_SECS)
                    .map_err(|_| InboundRejected::Stale)?;
                let expected = secret.mac(&[t.as_bytes(), b".", body]);
                let matched = candidates.into_iter().any(|candidate| {
                    hex::decode(candidate).is_ok_and(|given| bool::from(expected[..].ct_eq(&given)))
                });
                matched.then_some(()).ok_or_else(no_match)
            }
            Verification::HmacSha256 {
                encoding,
                prefix,
                secret,
                ..
            } => {
                let value = match prefix {
                    Some(prefix) => signature
                        .strip_prefix(prefix.as_str())
                        .ok_or_else(no_match)?,
                    None => signature,
                };
                let given = match encoding {
                    Encoding::Hex => hex::decode(value.trim()).ok(),
                    Encoding::Base64 => STANDARD.decode(value.trim()).ok(),
                }
                .ok_or_else(no_match)?;
                let expected = secret.mac(&[body]);
                bool::from(expected[..].ct_eq(&given))
                    .then_some(())
                    .ok_or_else(no_match)
            }
        }
    }
}
