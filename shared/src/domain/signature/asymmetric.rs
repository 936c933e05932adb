//! Standard Webhooks v1a: `v1a,<base64 Ed25519 signature of "{id}.{timestamp}.{body}">`,
//! verified with the endpoint's public key (`whpk_…`), so a receiver holds nothing that
//! could sign.
//!
//! The private key is not stored on its own: it is derived from the endpoint's signing
//! secret (SHA-256 of a label and the secret's bytes, used as the Ed25519 seed), so it is
//! kept, encrypted and rotated exactly as the secrets are, and a rotation's grace period
//! signs with both key pairs as it does with both HMAC secrets.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::{Secret, LENIENT_BASE64};

const PUBLIC_PREFIX: &str = "whpk_";
/// Separates the seed from any other use of the secret's bytes (the HMAC key is the bytes
/// themselves), so knowing one reveals nothing of the other.
const SEED_LABEL: &[u8] = b"authhooks standard-webhooks-v1a signing key\0";

/// An Ed25519 public key as Standard Webhooks writes it: `whpk_` + base64 of 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Why a value is not a usable public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    #[error("public key must be `whpk_` followed by the standard base64 of 32 bytes")]
    Malformed,
    #[error("public key is not a valid Ed25519 point")]
    NotAPoint,
}

impl PublicKey {
    pub fn parse(s: &str) -> Result<PublicKey, PublicKeyError> {
        let encoded = s
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or(PublicKeyError::Malformed)?;
        let bytes = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| PublicKeyError::Malformed)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| PublicKeyError::Malformed)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| PublicKeyError::NotAPoint)
    }

    /// The public half of the key pair `secret` signs v1a deliveries with.
    pub fn of(secret: &Secret) -> PublicKey {
        PublicKey(signing_key(secret).verifying_key())
    }

    pub fn expose(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.expose())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        PublicKey::parse(&s).map_err(de::Error::custom)
    }
}

fn signing_key(secret: &Secret) -> SigningKey {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(SEED_LABEL)
        .chain_update(&secret.bytes)
        .finalize()
        .into();
    SigningKey::from_bytes(&seed)
}

fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(msg_id.len() + body.len() + 24);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// One `webhook-signature` entry: `v1a,<base64 of the 64-byte Ed25519 signature>`.
pub fn sign_v1a(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = signing_key(secret).sign(&signed_content(msg_id, timestamp, body));
    format!("v1a,{}", STANDARD.encode(signature.to_bytes()))
}

/// Whether any `v1a` entry of a `webhook-signature` value is a valid signature of the
/// content by any of `keys` (strict verification: no malleable or small-order forms).
/// The timestamp's window is the caller's to check.
pub fn verify_v1a(
    keys: &[PublicKey],
    signature_header: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> bool {
    let content = signed_content(msg_id, timestamp, body);
    signature_header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1a,"))
        .filter_map(|encoded| LENIENT_BASE64.decode(encoded).ok())
        .filter_map(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .any(|signature| {
            keys.iter()
                .any(|key| key.0.verify_strict(&content, &signature).is_ok())
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_signature_verifies_with_the_secrets_public_key_only() {
        let secret = Secret::generate([3; 32]);
        let other = Secret::generate([4; 32]);
        let entry = sign_v1a(&secret, "msg_1", 1_700_000_000, b"{}");
        assert!(entry.starts_with("v1a,"));
        let key = PublicKey::of(&secret);
        assert!(verify_v1a(&[key], &entry, "msg_1", 1_700_000_000, b"{}"));
        assert!(!verify_v1a(&[key], &entry, "msg_1", 1_700_000_000, b"{ }"));
        assert!(!verify_v1a(&[key], &entry, "msg_2", 1_700_000_000, b"{}"));
        assert!(!verify_v1a(&[key], &entry, "msg_1", 1_700_000_001, b"{}"));
        assert!(!verify_v1a(
            &[PublicKey::of(&other)],
            &entry,
            "msg_1",
            1_700_000_000,
            b"{}"
        ));
        // Any entry may match, as during a rotation; v1 entries are not ours to read.
        let both = format!("v1,AAAA {} v1a,notbase64", entry);
        assert!(verify_v1a(
            &[PublicKey::of(&other), key],
            &both,
            "msg_1",
            1_700_000_000,
            b"{}"
        ));
    }

    #[test]
    fn the_key_pair_is_stable_and_separate_from_the_hmac_key() {
        let secret = Secret::generate([3; 32]);
        assert_eq!(PublicKey::of(&secret), PublicKey::of(&secret.clone()));
        // The seed is not the secret's bytes themselves.
        let raw = SigningKey::from_bytes(&[3; 32]).verifying_key();
        assert_ne!(PublicKey::of(&secret).0, raw);
    }

    #[test]
    fn public_keys_round_trip_and_bad_ones_are_refused() {
        let key = PublicKey::of(&Secret::generate([5; 32]));
        let text = key.expose();
        assert!(text.starts_with("whpk_"));
        assert_eq!(PublicKey::parse(&text), Ok(key));
        assert_eq!(
            PublicKey::parse("whsec_AAAA"),
            Err(PublicKeyError::Malformed)
        );
        assert_eq!(
            PublicKey::parse("whpk_AAAA"),
            Err(PublicKeyError::Malformed)
        );
        assert_eq!(
            PublicKey::parse(&format!("{PUBLIC_PREFIX}{}", STANDARD.encode([0u8; 31]))),
            Err(PublicKeyError::Malformed)
        );
    }
}
