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
use serde_json::Value;
use sha2::Sha256;

use super::signature::hmac_key;
use super::validation::FieldError;

type HmacSha256 = Hmac<Sha256>;

/// A link lives an hour unless asked otherwise.
pub const DEFAULT_TTL_SECS: i64 = 3600;

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

/// The tenant and lifetime a `POST /v1/portal-links` body asks for (`ttl_secs` defaults to
/// an hour), every field of the wrong shape or unknown reported; their values are
/// [`Grant::new`]'s to check.
pub fn link_request(body: &Value) -> Result<(String, i64), Vec<FieldError>> {
    let mut errors = Vec::new();
    match body.as_object() {
        Some(fields) => errors.extend(
            fields
                .keys()
                .filter(|k| !["tenant_id", "ttl_secs"].contains(&k.as_str()))
                .map(|name| FieldError::new(name, "unknown field")),
        ),
        None => errors.push(FieldError::new("", "must be a JSON object")),
    }
    let tenant = match body.get("tenant_id") {
        Some(Value::String(t)) => t.clone(),
        _ => {
            errors.push(FieldError::new("tenant_id", "must be a string"));
            String::new()
        }
    };
    let ttl = match body.get("ttl_secs") {
        None | Some(Value::Null) => DEFAULT_TTL_SECS,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            errors.push(FieldError::new("ttl_secs", "must be an integer"));
            DEFAULT_TTL_SECS
        }),
    };
    if errors.is_empty() {
        Ok((tenant, ttl))
    } else {
        Err(errors)
    }
}

/// Whether a portal request's body may carry this `tenant_id`: none, or the portal's own
/// tenant (`null` too when creating, where it means "not set"). A portal never names, or
/// moves an endpoint to, another tenant.
pub fn own_tenant(
    value: Option<&Value>,
    tenant: &str,
    null_allowed: bool,
) -> Result<(), FieldError> {
    match value {
        None => Ok(()),
        Some(Value::Null) if null_allowed => Ok(()),
        Some(Value::String(t)) if t == tenant => Ok(()),
        Some(_) => Err(FieldError::new(
            "tenant_id",
            "must be the portal's own tenant",
        )),
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
    fn a_body_names_no_tenant_but_the_portals_own() {
        let acme = serde_json::json!("acme");
        assert!(own_tenant(None, "acme", false).is_ok());
        assert!(own_tenant(Some(&acme), "acme", false).is_ok());
        assert!(own_tenant(Some(&Value::Null), "acme", true).is_ok());
        assert!(own_tenant(Some(&Value::Null), "acme", false).is_err());
        assert!(own_tenant(Some(&serde_json::json!("globex")), "acme", true).is_err());
        assert_eq!(
            link_request(&serde_json::json!({"tenant_id": "acme"})),
            Ok(("acme".to_owned(), DEFAULT_TTL_SECS))
        );
        let errors = link_request(&serde_json::json!({"ttl_secs": "1h", "x": 1})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["x", "tenant_id", "ttl_secs"]);
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
