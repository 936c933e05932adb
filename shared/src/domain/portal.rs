//! Tenant portal links: a token that grants one tenant's view until it expires, signed with
//! the portal key (HMAC-SHA256), which is not the admin token. The token names its tenant and
//! expiry in the clear (base64url JSON) and is checked in constant time; nothing is stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::signature::hmac_key;
use super::validation::FieldError;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of every portal token.
pub const TOKEN_PREFIX: &str = "ahp_";
/// The shortest and longest a link may live.
pub const MIN_TTL_SECS: i64 = 60;
pub const MAX_TTL_SECS: i64 = 30 * 24 * 3600;
const MAX_TENANT_CHARS: usize = 256;

/// The key portal tokens are signed with; never printed.
#[derive(Clone)]
pub struct PortalKey([u8; 32]);

impl PortalKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new(&hmac_key(&self.0))
    }
}

impl fmt::Debug for PortalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PortalKey(<redacted>)")
    }
}

/// What a portal token grants: one tenant, until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(rename = "t")]
    pub tenant_id: String,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Grant {
    /// A grant of `tenant_id` for `ttl_secs` from `now`, every bad field reported.
    pub fn new(
        tenant_id: &str,
        ttl_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let chars = tenant_id.chars().count();
        if chars == 0 || chars > MAX_TENANT_CHARS {
            errors.push(FieldError::new(
                "tenant_id",
                format!("must be 1 to {MAX_TENANT_CHARS} characters"),
            ));
        }
        if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&ttl_secs) {
            errors.push(FieldError::new(
                "ttl_secs",
                format!("must be from {MIN_TTL_SECS} to {MAX_TTL_SECS} seconds"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            tenant_id: tenant_id.to_owned(),
            expires: (now + Duration::seconds(ttl_secs)).timestamp(),
        })
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.expires, 0)
            .single()
            .unwrap_or_default()
    }

    /// `ahp_<claims>.<signature>`, both base64url.
    pub fn sign(&self, key: &PortalKey) -> String {
        // Two plain fields; their JSON cannot fail to encode.
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let mut mac = key.mac();
        mac.update(claims.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{TOKEN_PREFIX}{claims}.{signature}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a portal token")]
    Malformed,
    #[error("the portal token's signature does not match")]
    BadSignature,
    #[error("the portal link has expired")]
    Expired,
}

/// The grant a token carries, if `key` signed it and it has not expired at `now`.
pub fn verify(token: &str, key: &PortalKey, now: DateTime<Utc>) -> Result<Grant, TokenError> {
    let rest = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(TokenError::Malformed)?;
    let (claims, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = key.mac();
    mac.update(claims.as_bytes());
    // Constant time: `verify_slice` compares without an early exit.
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| TokenError::Malformed)?;
    let grant: Grant = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    if now.timestamp() >= grant.expires {
        return Err(TokenError::Expired);
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap()
    }

    #[test]
    fn a_token_grants_its_tenant_until_it_expires() {
        let key = PortalKey::new([7; 32]);
        let grant = Grant::new("acme", 3600, now()).unwrap();
        let token = grant.sign(&key);
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(verify(&token, &key, now()), Ok(grant.clone()));
        let later = now() + Duration::seconds(3599);
        assert_eq!(verify(&token, &key, later).unwrap().tenant_id, "acme");
        let expired = now() + Duration::seconds(3600);
        assert_eq!(verify(&token, &key, expired), Err(TokenError::Expired));
        assert_eq!(grant.expires_at(), now() + Duration::seconds(3600));
    }

    #[test]
    fn another_key_a_changed_tenant_or_garbage_is_refused() {
        let key = PortalKey::new([7; 32]);
        let token = Grant::new("acme", 3600, now()).unwrap().sign(&key);
        let other = PortalKey::new([8; 32]);
        assert_eq!(verify(&token, &other, now()), Err(TokenError::BadSignature));
        // The claims of tenant "globex" with acme's signature.
        let globex = Grant::new("globex", 3600, now()).unwrap().sign(&key);
        let (_, acme_signature) = token.split_once('.').unwrap();
        let (globex_claims, _) = globex.split_once('.').unwrap();
        let forged = format!("{globex_claims}.{acme_signature}");
        assert_eq!(verify(&forged, &key, now()), Err(TokenError::BadSignature));
        for garbage in ["", "ahp_", "ahp_x.y", "Bearer ahp_a.b", "ahp_abc"] {
            assert!(verify(garbage, &key, now()).is_err(), "{garbage}");
        }
        assert_eq!(format!("{key:?}"), "PortalKey(<redacted>)");
    }

    #[test]
    fn a_grant_needs_a_tenant_and_a_bounded_lifetime() {
        let errors = Grant::new("", 10, now()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tenant_id", "ttl_secs"]);
        assert!(Grant::new("acme", MAX_TTL_SECS + 1, now()).is_err());
        assert!(Grant::new(&"x".repeat(257), 60, now()).is_err());
        assert!(Grant::new("acme", MIN_TTL_SECS, now()).is_ok());
    }
}
