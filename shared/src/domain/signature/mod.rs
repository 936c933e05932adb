//! Standard Webhooks v1 signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`;
//! `scheme` adds v1a (Ed25519, `asymmetric`) and the compatibility schemes (`compat`).

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::digest::{Key, KeyInit};
use hmac::{Hmac, Mac};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

mod asymmetric;
mod compat;
pub(crate) use compat::{keyed_mac, timestamped_parts};
mod headers;
mod scheme;
pub use asymmetric::{sign_v1a, verify_v1a, PublicKey, PublicKeyError};
pub use headers::{
    sign_headers, HEADER_WEBHOOK_ATTEMPT, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE,
    HEADER_WEBHOOK_TIMESTAMP,
};
pub use scheme::{
    Keys, Message, Scheme, SchemeError, Signing, DEFAULT_SIGNATURE_HEADER,
    DEFAULT_TIMESTAMP_HEADER, HEADER_X_WEBHOOK_DELIVERY, HEADER_X_WEBHOOK_EVENT,
};

type HmacSha256 = Hmac<Sha256>;

/// Fewest decoded bytes a secret may have (Standard Webhooks' minimum).
pub const MIN_SECRET_BYTES: usize = 24;
/// Most decoded bytes a secret may have.
pub const MAX_SECRET_BYTES: usize = 64;
/// How far `webhook-timestamp` may be from the receiver's clock, either way.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const SECRET_PREFIX: &str = "whsec_";

/// Standard base64 that accepts secrets with or without `=` padding: producers and the
/// reference libraries are lax about it, and padding carries no information.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A `whsec_` signing secret (24–64 random bytes). Never printed: `Debug` is redacted.
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
}

/// Why a value is not a usable signing secret. Never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("signing secret must start with `whsec_`")]
    MissingPrefix,
    #[error("signing secret must be `whsec_` followed by standard base64")]
    NotBase64,
    #[error(
        "signing secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes once decoded, \
         not {len}"
    )]
    WrongLength { len: usize },
}

impl Secret {
    /// Parses `whsec_` + standard base64 (padding optional) of 24–64 bytes.
    pub fn parse(s: &str) -> Result<Secret, SecretError> {
        let encoded = s
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let bytes = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes, checking the 24–64 byte bounds.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, SecretError> {
        if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            Ok(Secret { bytes })
        } else {
            Err(SecretError::WrongLength { len: bytes.len() })
        }
    }

    /// A new secret from 32 random bytes supplied by the caller.
    pub fn generate(bytes: [u8; 32]) -> Secret {
        Secret {
            bytes: bytes.to_vec(),
        }
    }

    /// The `whsec_…` string: the one deliberate way to reveal a secret (on create and rotate).
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.bytes))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = <HmacSha256 as KeyInit>::new(&hmac_key(&self.bytes));
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// The HMAC key block per RFC 2104 §2 (short keys zero-padded, long ones hashed first).
/// Building it here lets the MAC be constructed with the infallible `KeyInit::new`;
/// `new_from_slice` does the same work but returns a `Result` that is never `Err`.
pub(crate) fn hmac_key(secret: &[u8]) -> Key<HmacSha256> {
    let mut key = Key::<HmacSha256>::default();
    if secret.len() > key.len() {
        let digest = Sha256::digest(secret);
        key[..digest.len()].copy_from_slice(&digest);
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    key
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_***)")
    }
}

/// Constant-time, so comparing a presented secret against a stored one leaks no prefix.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Secret {}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Secret::parse(&s).map_err(de::Error::custom)
    }
}

/// One `webhook-signature` entry: `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`.
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(secret.mac(msg_id, timestamp, body))
    )
}

/// The whole `webhook-signature` value: one entry per secret, space-separated, so a
/// receiver holding either the old or the new secret during a rotation accepts it.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a Secret>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The three Standard Webhooks headers as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    /// `webhook-id`
    pub id: &'a str,
    /// `webhook-timestamp`: unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `version,base64` entries.
    pub signature: &'a str,
}

/// Why a signed request was refused. Never contains a secret or an expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp is not a whole number of unix seconds")]
    InvalidTimestamp,
    #[error(
        "webhook-timestamp is {age_secs} s in the past, beyond the {tolerance_secs} s tolerance"
    )]
    TimestampTooOld { age_secs: i64, tolerance_secs: i64 },
    #[error(
        "webhook-timestamp is {ahead_secs} s in the future, beyond the {tolerance_secs} s tolerance"
    )]
    TimestampTooNew {
        ahead_secs: i64,
        tolerance_secs: i64,
    },
    #[error("no v1 entry in webhook-signature matches a signing secret")]
    NoMatchingSignature,
}

/// Checks the timestamp window, then accepts if any `v1` entry matches any secret.
///
/// Entries of other versions and entries that are not base64 are skipped rather than
/// refused, so a sender may add new schemes (or sign with secrets we do not hold).
pub fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a Secret>,
    headers: &SignedHeaders<'_>,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let timestamp = parse_timestamp(headers.timestamp)?;
    check_window(timestamp, now_unix, tolerance_secs)?;

    let expected: Vec<[u8; 32]> = secrets
        .into_iter()
        .map(|secret| secret.mac(headers.id, timestamp, body))
        .collect();
    let presented = headers
        .signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| LENIENT_BASE64.decode(encoded).ok());
    for candidate in presented {
        // `ct_eq` on slices of different lengths is false without comparing contents.
        if expected
            .iter()
            .any(|mac| bool::from(mac[..].ct_eq(&candidate[..])))
        {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

/// The timestamp window: at most `tolerance_secs` from `now_unix`, either way.
pub(crate) fn check_window(
    timestamp: i64,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let age_secs = now_unix.saturating_sub(timestamp);
    if age_secs > tolerance_secs {
        return Err(VerifyError::TimestampTooOld {
            age_secs,
            tolerance_secs,
        });
    }
    let ahead_secs = timestamp.saturating_sub(now_unix);
    if ahead_secs > tolerance_secs {
        return Err(VerifyError::TimestampTooNew {
            ahead_secs,
            tolerance_secs,
        });
    }
    Ok(())
}

/// Only plain ASCII digits: `i64::from_str` would also take `+123`, which no sender emits
/// and which would sign differently from the value it denotes.
pub(crate) fn parse_timestamp(value: &str) -> Result<i64, VerifyError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    value.parse().map_err(|_| VerifyError::InvalidTimestamp)
}

#[cfg(test)]
mod tests;
