//! The HMAC-SHA256 signatures receivers written before authhooks check, as lowercase hex:
//! of the body alone, `sha256=` and the body, `t=<unix>,v1=` over `"{t}.{body}"`, and
//! `v1=` over `"{ISO timestamp}.{body}"` with the timestamp in a header of its own.
//!
//! Such receivers key the HMAC with the secret *as text* (`createHmac("sha256",
//! process.env.SECRET)`), so the key here is the `whsec_…` string exactly as the admin API
//! shows it, not the bytes it encodes: a receiver's configuration holds that string and no
//! code changes.

use hmac::digest::KeyInit;
use hmac::Mac;
use subtle::ConstantTimeEq;

use super::{hmac_key, HmacSha256, Secret};

/// HMAC-SHA256 over `parts` in order, keyed with the secret's text.
pub(crate) fn mac(secret: &Secret, parts: &[&[u8]]) -> [u8; 32] {
    keyed_mac(secret.expose().as_bytes(), parts)
}

/// HMAC-SHA256 over `parts` in order under `key` as given: what the compatibility schemes
/// and the inbound sources' providers (whose secrets are text of their own) both sign.
pub(crate) fn keyed_mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new(&hmac_key(key));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Lowercase hex of the MAC over `parts`.
pub(crate) fn hex_mac(secret: &Secret, parts: &[&[u8]]) -> String {
    hex::encode(mac(secret, parts))
}

/// Whether `presented` (hex, either case) is the MAC over `parts` under any of `secrets`,
/// compared in constant time.
pub(crate) fn hex_matches(secrets: &[Secret], presented: &str, parts: &[&[u8]]) -> bool {
    let Ok(candidate) = hex::decode(presented.trim()) else {
        return false;
    };
    secrets
        .iter()
        .any(|secret| bool::from(mac(secret, parts)[..].ct_eq(&candidate[..])))
}

/// The `t` and `v1` values of a `t=<unix>,v1=<hex>` header (`v1` may repeat, one per
/// secret during a rotation).
pub(crate) fn timestamped_parts(value: &str) -> (Option<&str>, Vec<&str>) {
    let mut t = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", at)) => t = t.or(Some(at)),
            Some(("v1", sig)) => v1.push(sig),
            _ => {}
        }
    }
    (t, v1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_key_is_the_secret_as_text() {
        let secret = Secret::generate([1; 32]);
        // Known answer, computed independently:
        // python3 -c 'import hmac,hashlib,base64;print(hmac.new(("whsec_"+base64.b64encode(bytes([1]*32)).decode()).encode(),b"{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            hex_mac(&secret, &[b"{}"]),
            "e932e979856513dda4c9a46d886d8095356e73e185a4aeeb8042b45bec48523b"
        );
    }

    #[test]
    fn hex_comparison_takes_either_case_and_refuses_the_rest() {
        let secret = Secret::generate([2; 32]);
        let good = hex_mac(&secret, &[b"a", b".", b"b"]);
        let secrets = [secret];
        assert!(hex_matches(&secrets, &good, &[b"a.b"]));
        assert!(hex_matches(&secrets, &good.to_uppercase(), &[b"a.b"]));
        assert!(!hex_matches(&secrets, &good, &[b"a.c"]));
        assert!(!hex_matches(&secrets, "zz", &[b"a.b"]));
        assert!(!hex_matches(&secrets, &good[..10], &[b"a.b"]));
    }

    #[test]
    fn timestamped_values_split_into_t_and_each_v1() {
        assert_eq!(
            timestamped_parts("t=17,v1=ab,v1=cd"),
            (Some("17"), vec!["ab", "cd"])
        );
        assert_eq!(timestamped_parts("v0=ab"), (None, vec![]));
    }
}
