#![allow(clippy::unwrap_used)]

use chrono::TimeZone;

use super::*;

const BODY: &[u8] = br#"{"type":"user.created"}"#;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
}

fn message() -> Message<'static> {
    Message {
        id: "msg_1",
        event_type: "user.created",
        at: at(),
        body: BODY,
    }
}

fn secret() -> Secret {
    Secret::generate([7; 32])
}

fn headers(signing: &Signing, secrets: &[&Secret]) -> Vec<(String, String)> {
    signing.sign(secrets, &message())
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn check(
    signing: &Signing,
    keys: Keys<'_>,
    headers: &[(String, String)],
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SchemeError> {
    signing.verify(keys, |name| value(headers, name), body, now, 300)
}

/// Known answers computed outside this code, with Python's `hmac` and the `cryptography`
/// package's Ed25519 (secret `whsec_` + base64 of 32 bytes of 7; message `msg_1`,
/// 2026-12-02T10:00:00Z = 1796205600, the body above).
#[test]
fn every_scheme_matches_its_known_answer() {
    let s = secret();
    let expect = |scheme: Scheme, pairs: &[(&str, &str)]| {
        let got = headers(&Signing::new(scheme), &[&s]);
        let want: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, want, "{}", scheme.name());
    };
    expect(
        Scheme::StandardWebhooks,
        &[
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1796205600"),
            (
                "webhook-signature",
                "v1,8ysk+JVQlNbV1RLjry6BFCjxYs2XRJefBSmk8t+kP3I=",
            ),
        ],
    );
    expect(
        Scheme::StandardWebhooksV1a,
        &[
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1796205600"),
            (
                "webhook-signature",
                "v1a,RL0tKmElZt7HSLhCrdRHR1In08MOhEKw3lkX1Yj/VUVBL49hIJR+zz03HjEdvyKM8OHzA/gggO1f+UtIVa5IBA==",
            ),
        ],
    );
    expect(
        Scheme::HmacHex,
        &[
            ("webhook-id", "msg_1"),
            ("x-webhook-event", "user.created"),
            ("x-webhook-timestamp", "1796205600"),
            (
                "x-webhook-signature",
                "2853f28b44a3fedfef2c767521db15fec27de0f6a1573aa72bebbeb6831fd368",
            ),
        ],
    );
    expect(
        Scheme::HmacSha256Prefixed,
        &[
            ("webhook-id", "msg_1"),
            ("x-webhook-event", "user.created"),
            ("x-webhook-delivery", "msg_1"),
            ("x-webhook-timestamp", "2026-12-02T10:00:00.000Z"),
            (
                "x-webhook-signature",
                "sha256=2853f28b44a3fedfef2c767521db15fec27de0f6a1573aa72bebbeb6831fd368",
            ),
        ],
    );
    expect(
        Scheme::HmacTimestamped,
        &[
            ("webhook-id", "msg_1"),
            ("x-webhook-event", "user.created"),
            (
                "x-webhook-signature",
                "t=1796205600,v1=19c3c6931bc066dec1c5e5c875a8b53650754e934737ed48837fb24d5cd4fe1d",
            ),
        ],
    );
    expect(
        Scheme::HmacIsoTimestamped,
        &[
            ("webhook-id", "msg_1"),
            ("x-webhook-event", "user.created"),
            ("x-webhook-timestamp", "2026-12-02T10:00:00.000Z"),
            (
                "x-webhook-signature",
                "v1=219770edd90e78d75397d0e1cb8cb48319744bc2f7e2625cb6cf99d9a62ec838",
            ),
        ],
    );
    assert_eq!(
        PublicKey::of(&s).expose(),
        "whpk_//KK9tMx6ALE014f7zEqbFk681G0vdTf/085gokTSj4="
    );
}

#[test]
fn every_scheme_verifies_its_own_and_refuses_a_changed_body_or_another_key() {
    let s = secret();
    let other = Secret::generate([8; 32]);
    for scheme in Scheme::ALL {
        let signing = Signing::new(scheme);
        let sent = headers(&signing, &[&s]);
        let right = Keys {
            secrets: std::slice::from_ref(&s),
            public_keys: &[PublicKey::of(&s)],
        };
        let wrong = Keys {
            secrets: std::slice::from_ref(&other),
            public_keys: &[PublicKey::of(&other)],
        };
        assert_eq!(
            check(&signing, right, &sent, BODY, at()),
            Ok(()),
            "{scheme:?}"
        );
        assert!(
            check(&signing, right, &sent, b"{}", at()).is_err(),
            "{scheme:?} took a changed body"
        );
        assert!(
            check(&signing, wrong, &sent, BODY, at()).is_err(),
            "{scheme:?} took another key"
        );
    }
}

#[test]
fn schemes_that_sign_a_timestamp_refuse_an_old_one_and_the_others_cannot() {
    let s = secret();
    let keys = Keys {
        secrets: std::slice::from_ref(&s),
        public_keys: &[PublicKey::of(&s)],
    };
    let later = at() + chrono::Duration::minutes(10);
    for scheme in Scheme::ALL {
        let signing = Signing::new(scheme);
        let sent = headers(&signing, &[&s]);
        let verdict = check(&signing, keys, &sent, BODY, later);
        let signs_time = !matches!(scheme, Scheme::HmacHex | Scheme::HmacSha256Prefixed);
        assert_eq!(verdict.is_err(), signs_time, "{scheme:?}: {verdict:?}");
    }
}

#[test]
fn standard_schemes_sign_with_every_secret_and_compatibility_ones_with_the_newest() {
    let new = secret();
    let old = Secret::generate([8; 32]);
    for scheme in Scheme::ALL {
        let signing = Signing::new(scheme);
        let sent = headers(&signing, &[&new, &old]);
        let verifies = |s: &Secret| {
            let public = [PublicKey::of(s)];
            let keys = Keys {
                secrets: std::slice::from_ref(s),
                public_keys: &public,
            };
            check(&signing, keys, &sent, BODY, at()).is_ok()
        };
        assert!(verifies(&new), "{scheme:?}");
        assert_eq!(verifies(&old), !scheme.names_its_headers(), "{scheme:?}");
    }
}

#[test]
fn compatibility_schemes_use_the_header_names_given() {
    let signing = Signing {
        scheme: Scheme::HmacIsoTimestamped,
        signature_header: Some("x-acme-signature".into()),
        timestamp_header: Some("x-acme-timestamp".into()),
    };
    let s = secret();
    let sent = headers(&signing, &[&s]);
    assert!(value(&sent, "x-acme-signature").unwrap().starts_with("v1="));
    assert_eq!(
        value(&sent, "x-acme-timestamp"),
        Some("2026-12-02T10:00:00.000Z")
    );
    assert_eq!(value(&sent, "x-webhook-signature"), None);
    assert_eq!(
        signing.header_names(),
        [
            "webhook-id",
            "x-acme-signature",
            "x-acme-timestamp",
            "x-webhook-event"
        ]
    );
    let keys = Keys {
        secrets: std::slice::from_ref(&s),
        public_keys: &[],
    };
    assert_eq!(check(&signing, keys, &sent, BODY, at()), Ok(()));
    // Standard Webhooks' names cannot be moved.
    let fixed = Signing {
        signature_header: Some("x-acme-signature".into()),
        ..Signing::new(Scheme::StandardWebhooks)
    };
    assert_eq!(fixed.signature_header(), "webhook-signature");
}

#[test]
fn a_missing_header_or_key_is_named() {
    let s = secret();
    let signing = Signing::new(Scheme::StandardWebhooksV1a);
    let keys = Keys {
        secrets: std::slice::from_ref(&s),
        public_keys: &[],
    };
    let sent = headers(&signing, &[&s]);
    assert_eq!(
        check(&signing, keys, &sent, BODY, at()),
        Err(SchemeError::NoKeys {
            scheme: "standard-webhooks-v1a",
            needs: "a public key (whpk_)"
        })
    );
    assert_eq!(
        check(&Signing::new(Scheme::HmacHex), keys, &[], BODY, at()),
        Err(SchemeError::MissingHeader("x-webhook-signature".into()))
    );
}

#[test]
fn names_round_trip_through_serde_and_parse() {
    for scheme in Scheme::ALL {
        assert_eq!(Scheme::parse(scheme.name()), Some(scheme));
        let json = serde_json::to_value(Signing::new(scheme)).unwrap();
        assert_eq!(json, serde_json::json!({"scheme": scheme.name()}));
    }
    assert_eq!(Scheme::parse("hmac"), None);
    let stored: Signing =
        serde_json::from_value(serde_json::json!({"scheme": "hmac-hex"})).unwrap();
    assert_eq!(stored, Signing::new(Scheme::HmacHex));
}
