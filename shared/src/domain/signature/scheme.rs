//! How an endpoint's deliveries are signed (docs/architecture.md §3.3): Standard Webhooks
//! with HMAC (`v1`, the default) or Ed25519 (`v1a`), or one of the HMAC header styles that
//! receivers written before authhooks check — both ends, the headers a sender attaches and
//! the check a receiver makes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::asymmetric::{sign_v1a, verify_v1a, PublicKey};
use super::compat::{hex_mac, hex_matches, timestamped_parts};
use super::{
    check_window, parse_timestamp, signature_header, verify, Secret, SignedHeaders, VerifyError,
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};

/// The event type, sent by every compatibility scheme (their receivers switch on it).
pub const HEADER_X_WEBHOOK_EVENT: &str = "x-webhook-event";
/// The message id under the name `hmac-sha256-prefixed` receivers read.
pub const HEADER_X_WEBHOOK_DELIVERY: &str = "x-webhook-delivery";
/// The default signature header of the compatibility schemes.
pub const DEFAULT_SIGNATURE_HEADER: &str = "x-webhook-signature";
/// The default timestamp header of the compatibility schemes that send one.
pub const DEFAULT_TIMESTAMP_HEADER: &str = "x-webhook-timestamp";

/// A signature scheme, by the name the admin API takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// `webhook-signature: v1,<base64 HMAC of "{id}.{timestamp}.{body}">`.
    #[default]
    #[serde(rename = "standard-webhooks")]
    StandardWebhooks,
    /// `webhook-signature: v1a,<base64 Ed25519 signature of the same>`.
    #[serde(rename = "standard-webhooks-v1a")]
    StandardWebhooksV1a,
    /// `x-webhook-signature: <hex HMAC of the body>`, `x-webhook-timestamp: <unix>`.
    #[serde(rename = "hmac-hex")]
    HmacHex,
    /// `x-webhook-signature: sha256=<hex HMAC of the body>`, `x-webhook-delivery`,
    /// `x-webhook-timestamp: <ISO 8601>`.
    #[serde(rename = "hmac-sha256-prefixed")]
    HmacSha256Prefixed,
    /// `x-webhook-signature: t=<unix>,v1=<hex HMAC of "{t}.{body}">`.
    #[serde(rename = "hmac-timestamped")]
    HmacTimestamped,
    /// `x-webhook-signature: v1=<hex HMAC of "{ISO timestamp}.{body}">`,
    /// `x-webhook-timestamp: <ISO 8601>`.
    #[serde(rename = "hmac-iso-timestamped")]
    HmacIsoTimestamped,
}

impl Scheme {
    pub const ALL: [Scheme; 6] = [
        Scheme::StandardWebhooks,
        Scheme::StandardWebhooksV1a,
        Scheme::HmacHex,
        Scheme::HmacSha256Prefixed,
        Scheme::HmacTimestamped,
        Scheme::HmacIsoTimestamped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::StandardWebhooksV1a => "standard-webhooks-v1a",
            Scheme::HmacHex => "hmac-hex",
            Scheme::HmacSha256Prefixed => "hmac-sha256-prefixed",
            Scheme::HmacTimestamped => "hmac-timestamped",
            Scheme::HmacIsoTimestamped => "hmac-iso-timestamped",
        }
    }

    pub fn parse(name: &str) -> Option<Scheme> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the signature header's name is the endpoint's to choose (the compatibility
    /// schemes); Standard Webhooks' names are fixed.
    pub fn names_its_headers(self) -> bool {
        !matches!(self, Scheme::StandardWebhooks | Scheme::StandardWebhooksV1a)
    }

    /// Whether it sends the timestamp in a header of its own, whose name may be chosen.
    pub fn has_timestamp_header(self) -> bool {
        matches!(
            self,
            Scheme::HmacHex | Scheme::HmacSha256Prefixed | Scheme::HmacIsoTimestamped
        )
    }
}

/// An endpoint's signing: the scheme and, for a compatibility scheme, the names of the
/// headers its receiver reads (the defaults when absent).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Signing {
    pub scheme: Scheme,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
}

/// What a delivery attempt signs.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The message id (`webhook-id`), stable across attempts.
    pub id: &'a str,
    pub event_type: &'a str,
    pub at: DateTime<Utc>,
    pub body: &'a [u8],
}

/// What a receiver verifies with: the endpoint's secrets (HMAC schemes) or its public keys
/// (`standard-webhooks-v1a`).
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    pub secrets: &'a [Secret],
    pub public_keys: &'a [PublicKey],
}

/// Why a delivery was refused under a scheme. Never contains a key or an expected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("missing header {0}")]
    MissingHeader(String),
    #[error("{0}")]
    Standard(#[from] VerifyError),
    #[error("{header} is not an RFC 3339 time")]
    InvalidIsoTimestamp { header: String },
    #[error("{scheme} needs {needs} to verify with")]
    NoKeys {
        scheme: &'static str,
        needs: &'static str,
    },
    #[error("the {header} signature matches no key")]
    NoMatchingSignature { header: String },
}

impl Signing {
    pub fn new(scheme: Scheme) -> Signing {
        Signing {
            scheme,
            signature_header: None,
            timestamp_header: None,
        }
    }

    /// The header the signature travels in.
    pub fn signature_header(&self) -> &str {
        match (self.scheme.names_its_headers(), &self.signature_header) {
            (false, _) => HEADER_WEBHOOK_SIGNATURE,
            (true, Some(name)) => name,
            (true, None) => DEFAULT_SIGNATURE_HEADER,
        }
    }

    /// The header the timestamp travels in, for the schemes that send one apart.
    pub fn timestamp_header(&self) -> Option<&str> {
        if !self.scheme.names_its_headers() {
            return Some(HEADER_WEBHOOK_TIMESTAMP);
        }
        self.scheme.has_timestamp_header().then(|| {
            self.timestamp_header
                .as_deref()
                .unwrap_or(DEFAULT_TIMESTAMP_HEADER)
        })
    }

    /// Every header name the scheme sends (the endpoint's extra headers may name none).
    pub fn header_names(&self) -> Vec<&str> {
        let mut names = vec![HEADER_WEBHOOK_ID, self.signature_header()];
        names.extend(self.timestamp_header());
        if self.scheme.names_its_headers() {
            names.push(HEADER_X_WEBHOOK_EVENT);
        }
        if self.scheme == Scheme::HmacSha256Prefixed {
            names.push(HEADER_X_WEBHOOK_DELIVERY);
        }
        names
    }

    /// The headers [`Signing::verify`] reads: the signature's, and the id's and the
    /// timestamp's where the scheme signs them.
    pub fn verified_headers(&self) -> Vec<&str> {
        match self.scheme {
            Scheme::StandardWebhooks | Scheme::StandardWebhooksV1a => vec![
                HEADER_WEBHOOK_ID,
                HEADER_WEBHOOK_TIMESTAMP,
                HEADER_WEBHOOK_SIGNATURE,
            ],
            Scheme::HmacIsoTimestamped => {
                let mut names = vec![self.signature_header()];
                names.extend(self.timestamp_header());
                names
            }
            Scheme::HmacHex | Scheme::HmacSha256Prefixed | Scheme::HmacTimestamped => {
                vec![self.signature_header()]
            }
        }
    }

    /// The signing headers of `message`, under every secret in `secrets` (newest first)
    /// for the Standard Webhooks schemes, whose receivers accept any of several entries;
    /// under the newest alone for the compatibility schemes, whose receivers compare one
    /// value.
    pub fn sign(&self, secrets: &[&Secret], message: &Message<'_>) -> Vec<(String, String)> {
        let timestamp = message.at.timestamp();
        let iso = || message.at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let body = message.body;
        let mut headers = vec![(HEADER_WEBHOOK_ID.to_owned(), message.id.to_owned())];
        if self.scheme.names_its_headers() {
            headers.push((
                HEADER_X_WEBHOOK_EVENT.to_owned(),
                message.event_type.to_owned(),
            ));
        }
        let newest = secrets.first().copied();
        let (timestamp_value, signature) = match self.scheme {
            Scheme::StandardWebhooks => (
                Some(timestamp.to_string()),
                signature_header(secrets.iter().copied(), message.id, timestamp, body),
            ),
            Scheme::StandardWebhooksV1a => (
                Some(timestamp.to_string()),
                secrets
                    .iter()
                    .map(|s| sign_v1a(s, message.id, timestamp, body))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Scheme::HmacHex => (
                Some(timestamp.to_string()),
                newest.map_or_else(String::new, |s| hex_mac(s, &[body])),
            ),
            Scheme::HmacSha256Prefixed => {
                headers.push((HEADER_X_WEBHOOK_DELIVERY.to_owned(), message.id.to_owned()));
                let signature = newest.map_or_else(String::new, |s| hex_mac(s, &[body]));
                (Some(iso()), format!("sha256={signature}"))
            }
            Scheme::HmacTimestamped => {
                let t = timestamp.to_string();
                let signature =
                    newest.map_or_else(String::new, |s| hex_mac(s, &[t.as_bytes(), b".", body]));
                (None, format!("t={t},v1={signature}"))
            }
            Scheme::HmacIsoTimestamped => {
                let at = iso();
                let signature =
                    newest.map_or_else(String::new, |s| hex_mac(s, &[at.as_bytes(), b".", body]));
                (Some(at), format!("v1={signature}"))
            }
        };
        if let (Some(name), Some(value)) = (self.timestamp_header(), timestamp_value) {
            headers.push((name.to_owned(), value));
        }
        headers.push((self.signature_header().to_owned(), signature));
        headers
    }

    /// Verifies a delivery as its receiver would: the signature against `keys`, and the
    /// timestamp within `tolerance_secs` of `now` where the scheme signs one (the body-only
    /// schemes sign none, which is why they are for existing receivers only). `header`
    /// answers a lower-case header name with its value.
    pub fn verify<'h>(
        &self,
        keys: Keys<'_>,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: DateTime<Utc>,
        tolerance_secs: i64,
    ) -> Result<(), SchemeError> {
        let need = |name: &str| header(name).ok_or_else(|| SchemeError::MissingHeader(name.into()));
        let signature_name = self.signature_header();
        let signature = need(signature_name)?;
        let no_match = || SchemeError::NoMatchingSignature {
            header: signature_name.to_owned(),
        };
        let secrets = || {
            if keys.secrets.is_empty() {
                Err(SchemeError::NoKeys {
                    scheme: self.scheme.name(),
                    needs: "a signing secret",
                })
            } else {
                Ok(keys.secrets)
            }
        };
        let check = |ok: bool| if ok { Ok(()) } else { Err(no_match()) };
        match self.scheme {
            Scheme::StandardWebhooks => {
                let signed = SignedHeaders {
                    id: need(HEADER_WEBHOOK_ID)?,
                    timestamp: need(HEADER_WEBHOOK_TIMESTAMP)?,
                    signature,
                };
                Ok(verify(
                    secrets()?,
                    &signed,
                    body,
                    now.timestamp(),
                    tolerance_secs,
                )?)
            }
            Scheme::StandardWebhooksV1a => {
                if keys.public_keys.is_empty() {
                    return Err(SchemeError::NoKeys {
                        scheme: self.scheme.name(),
                        needs: "a public key (whpk_)",
                    });
                }
                let id = need(HEADER_WEBHOOK_ID)?;
                let timestamp = parse_timestamp(need(HEADER_WEBHOOK_TIMESTAMP)?)?;
                check_window(timestamp, now.timestamp(), tolerance_secs)?;
                check(verify_v1a(keys.public_keys, signature, id, timestamp, body))
            }
            Scheme::HmacHex => check(hex_matches(secrets()?, signature, &[body])),
            Scheme::HmacSha256Prefixed => {
                let hex = signature.strip_prefix("sha256=").ok_or_else(no_match)?;
                check(hex_matches(secrets()?, hex, &[body]))
            }
            Scheme::HmacTimestamped => {
                let (t, candidates) = timestamped_parts(signature);
                let t = t.ok_or_else(no_match)?;
                check_window(parse_timestamp(t)?, now.timestamp(), tolerance_secs)?;
                let secrets = secrets()?;
                check(
                    candidates.into_iter().any(|candidate| {
                        hex_matches(secrets, candidate, &[t.as_bytes(), b".", body])
                    }),
                )
            }
            Scheme::HmacIsoTimestamped => {
                let name = self.timestamp_header().unwrap_or(DEFAULT_TIMESTAMP_HEADER);
                let at = need(name)?;
                let parsed = DateTime::parse_from_rfc3339(at).map_err(|_| {
                    SchemeError::InvalidIsoTimestamp {
                        header: name.to_owned(),
                    }
                })?;
                check_window(parsed.timestamp(), now.timestamp(), tolerance_secs)?;
                let hex = signature.strip_prefix("v1=").ok_or_else(no_match)?;
                check(hex_matches(secrets()?, hex, &[at.as_bytes(), b".", body]))
            }
        }
    }
}

#[cfg(test)]
#[path = "scheme_tests.rs"]
mod tests;
