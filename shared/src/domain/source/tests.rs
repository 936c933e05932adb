#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::domain::ids::SourceId;
use crate::domain::signature::{sign, Secret};

const BODY: &[u8] = br#"{"id":"evt_1","type":"customer.updated"}"#;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn lookup<'a>(headers: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |name| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn verification(body: Value) -> Verification {
    let (source, _) = parse_new(
        &json!({"name": "s", "script": "function handler() {}", "verification": body}),
        at(0),
        1,
        [7; 32],
    )
    .unwrap();
    source.verification
}

// Known answers, computed independently:
// python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test_secret_value",b"1764583200."+BODY,hashlib.sha256).hexdigest())'
const STRIPE_V1: &str = "49e9cd71b6c3d4a270e828e3b037d9ec1f3ed1f5aeb8326ea9aa4aa66e5b93e0";
// ... hmac.new(b"github-secret-123", BODY, sha256).hexdigest()
const GITHUB_HEX: &str = "cf9df1a5da790bce4b2923f309dfc25f3fb5f90900c370d487750c72879f0a82";
// ... base64 of hmac.new(b"shopify-secret-123", BODY, sha256).digest()
const SHOPIFY_BASE64: &str = "u/hg6ZOUR/Lmafaxm0lP4YZnhFinM0amOifbhsiczEo=";

#[test]
fn a_stripe_signature_verifies_by_its_known_answer_and_nothing_else_does() {
    let stripe = verification(json!({"scheme": "stripe", "secret": "whsec_test_secret_value"}));
    let header = format!("t=1764583200,v1={STRIPE_V1},v0=ignored");
    let headers = [("stripe-signature", header.as_str())];
    assert_eq!(
        stripe.check(lookup(&headers), BODY, at(1_764_583_260)),
        Ok(())
    );
    // A byte of the body changed, the signature under another secret, a stale timestamp,
    // no header: all refused.
    let tampered = br#"{"id":"evt_2","type":"customer.updated"}"#;
    assert!(matches!(
        stripe.check(lookup(&headers), tampered, at(1_764_583_260)),
        Err(InboundRejected::NoMatch(_))
    ));
    let other = verification(json!({"scheme": "stripe", "secret": "whsec_another_secret"}));
    assert!(other
        .check(lookup(&headers), BODY, at(1_764_583_260))
        .is_err());
    assert_eq!(
        stripe.check(lookup(&headers), BODY, at(1_764_583_200 + 301)),
        Err(InboundRejected::Stale)
    );
    assert!(
        matches!(stripe.check(|_| None, BODY, at(1_764_583_200)), Err(InboundRejected::MissingHeader(h)) if h == "stripe-signature")
    );
    let malformed = [("stripe-signature", "v1=abc")];
    assert!(matches!(
        stripe.check(lookup(&malformed), BODY, at(0)),
        Err(InboundRejected::Malformed(_))
    ));
}

#[test]
fn the_stripe_shape_under_another_header() {
    let v = verification(
        json!({"scheme": "hmac-timestamped", "secret": "whsec_test_secret_value", "header": "X-Signature"}),
    );
    let header = format!("t=1764583200,v1={STRIPE_V1}");
    assert_eq!(
        v.check(
            lookup(&[("x-signature", header.as_str())]),
            BODY,
            at(1_764_583_200)
        ),
        Ok(())
    );
    let default =
        verification(json!({"scheme": "hmac-timestamped", "secret": "whsec_test_secret_value"}));
    assert_eq!(default.signature_header(), "x-webhook-signature");
}

#[test]
fn a_bare_hmac_in_hex_with_a_prefix_or_in_base64() {
    let github = verification(
        json!({"scheme": "hmac-sha256", "header": "X-Hub-Signature-256",
        "prefix": "sha256=", "secret": "github-secret-123"}),
    );
    let value = format!("sha256={GITHUB_HEX}");
    assert_eq!(
        github.check(
            lookup(&[("x-hub-signature-256", value.as_str())]),
            BODY,
            at(0)
        ),
        Ok(())
    );
    assert!(github
        .check(lookup(&[("x-hub-signature-256", GITHUB_HEX)]), BODY, at(0))
        .is_err());
    let shopify = verification(
        json!({"scheme": "hmac-sha256", "header": "x-shopify-hmac-sha256",
        "encoding": "base64", "secret": "shopify-secret-123"}),
    );
    assert_eq!(
        shopify.check(
            lookup(&[("x-shopify-hmac-sha256", SHOPIFY_BASE64)]),
            BODY,
            at(0)
        ),
        Ok(())
    );
    assert!(shopify
        .check(
            lookup(&[("x-shopify-hmac-sha256", SHOPIFY_BASE64)]),
            b"{}",
            at(0)
        )
        .is_err());
}

#[test]
fn standard_webhooks_with_the_sources_secret() {
    let secret = Secret::generate([9; 32]);
    let v = verification(json!({"scheme": "standard-webhooks", "secret": secret.expose()}));
    let signature = sign(&secret, "msg_1", 1_764_583_200, BODY);
    let headers = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "1764583200"),
        ("webhook-signature", signature.as_str()),
    ];
    assert_eq!(v.check(lookup(&headers), BODY, at(1_764_583_200)), Ok(()));
    assert!(v.check(lookup(&headers), b"{}", at(1_764_583_200)).is_err());
    assert!(v
        .check(lookup(&headers), BODY, at(1_764_583_200 + 600))
        .is_err());
}

#[test]
fn a_new_source_gets_a_standard_webhooks_secret_shown_once_and_never_in_its_view() {
    let (source, secret) = parse_new(
        &json!({"name": "Payload", "origin": "payload", "script": "function handler() {}",
                "verification": {"scheme": "standard-webhooks"}}),
        at(1),
        2,
        [3; 32],
    )
    .unwrap();
    let secret = secret.unwrap();
    assert!(source.id.as_str().starts_with("src_"));
    assert_eq!(
        source.verification,
        Verification::StandardWebhooks {
            secret: secret.clone()
        }
    );
    let view = serde_json::to_string(&source.to_view()).unwrap();
    assert!(!view.contains(&secret.expose()), "{view}");
    assert!(view.contains(&format!("\"inbound_path\":\"/v1/inbound/{}\"", source.id)));
    // A provider's secret is never shown back, nor printed.
    let stripe = verification(json!({"scheme": "stripe", "secret": "whsec_test_secret_value"}));
    assert!(!format!("{stripe:?}").contains("test_secret"));
}

#[test]
fn bad_bodies_are_refused_field_by_field() {
    let errors = parse_new(
        &json!({"name": "", "script": 3, "verification": {"scheme": "hmac-sha256", "encoding": "hexx", "secret": "short", "extra": 1},
                "id": "src_x", "colour": "red"}),
        at(0),
        1,
        [0; 32],
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for field in [
        "name",
        "script",
        "verification.header",
        "verification.encoding",
        "verification.secret",
        "verification.extra",
        "id",
        "colour",
    ] {
        assert!(fields.contains(&field), "{field} not in {errors:?}");
    }
    let missing = parse_new(&json!({}), at(0), 1, [0; 32]).unwrap_err();
    let fields: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "verification", "script"]);
    let unknown = parse_new(
        &json!({"name": "s", "script": "x", "verification": {"scheme": "magic"}}),
        at(0),
        1,
        [0; 32],
    )
    .unwrap_err();
    assert_eq!(unknown[0].field, "verification.scheme");
    let long = "x".repeat(MAX_SCRIPT_BYTES + 1);
    let too_long = parse_new(
        &json!({"name": "s", "script": long, "verification": {"scheme": "standard-webhooks"}}),
        at(0),
        1,
        [0; 32],
    )
    .unwrap_err();
    assert_eq!(too_long[0].field, "script");
}

#[test]
fn a_patch_changes_what_it_names_and_keeps_a_standard_webhooks_secret() {
    let (source, secret) = parse_new(
        &json!({"name": "a", "origin": "payload", "script": "function handler() {}", "verification": {"scheme": "standard-webhooks"}}),
        at(0),
        1,
        [1; 32],
    )
    .unwrap();
    let (patched, shown) = apply_patch(
        &source,
        &json!({"name": "b", "origin": null, "enabled": false,
        "verification": {"scheme": "standard-webhooks"}}),
        at(5),
        [2; 32],
    )
    .unwrap();
    assert_eq!(shown, None);
    assert_eq!(
        patched.verification,
        Verification::StandardWebhooks {
            secret: secret.unwrap()
        }
    );
    assert_eq!(
        (
            patched.name.as_str(),
            patched.origin.as_deref(),
            patched.enabled
        ),
        ("b", None, false)
    );
    assert_eq!(patched.updated_at, at(5));
    let errors = apply_patch(
        &source,
        &json!({"name": null, "verification": {"scheme": "stripe"}}),
        at(5),
        [2; 32],
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn a_scripts_answer_becomes_a_submission_stamped_with_the_sources_origin() {
    let one = submission(
        Some(r#"{"type":"user.updated","data":{},"origin":"spoofed"}"#),
        Some("payload"),
    )
    .unwrap()
    .unwrap();
    let one: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(
        one,
        json!({"events": [{"type": "user.updated", "data": {}, "origin": "payload"}]})
    );
    let kept = submission(Some(r#"[{"type":"a.b","data":{},"origin":"x"}]"#), None)
        .unwrap()
        .unwrap();
    assert!(String::from_utf8(kept).unwrap().contains(r#""origin":"x""#));
    assert_eq!(submission(None, Some("p")), Ok(None));
    assert_eq!(submission(Some("[]"), Some("p")), Ok(None));
    assert!(submission(Some("3"), None)
        .unwrap_err()
        .contains("not a number"));
}

#[test]
fn the_script_sees_the_body_parsed_and_raw_and_headers_but_no_credentials() {
    let (source, _) = parse_new(
        &json!({"name": "P", "script": "function handler() {}", "verification": {"scheme": "standard-webhooks"}}),
        at(0), 1, [1; 32]).unwrap();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), "Bearer secret".to_owned()),
        ("cookie".to_owned(), "s=1".to_owned()),
    ];
    let request = InboundRequest {
        headers: &headers,
        body: br#"{"a":1}"#,
        received_at: at(1_764_583_200),
    };
    let input: Value = serde_json::from_str(&script_input(&source, &request)).unwrap();
    assert_eq!(input["body"], json!({"a": 1}));
    assert_eq!(input["raw"], json!(r#"{"a":1}"#));
    assert_eq!(
        input["headers"],
        json!({"content-type": "application/json"})
    );
    assert_eq!(input["source"]["name"], json!("P"));
    assert_eq!(input["received_at"], json!("2025-12-01T10:00:00.000Z"));
    let form = InboundRequest {
        body: b"a=1&b=2",
        ..request
    };
    let input: Value = serde_json::from_str(&script_input(&source, &form)).unwrap();
    assert_eq!(
        (input["body"].clone(), input["raw"].clone()),
        (Value::Null, json!("a=1&b=2"))
    );
}

#[test]
fn the_same_body_to_the_same_source_is_the_same_request() {
    let a = SourceId::parse("src_a").unwrap();
    let b = SourceId::parse("src_b").unwrap();
    assert_eq!(request_id(&a, BODY), request_id(&a, BODY));
    assert_ne!(request_id(&a, BODY), request_id(&b, BODY));
    assert_ne!(request_id(&a, BODY), request_id(&a, b"{}"));
}

#[test]
fn a_failure_keeps_the_first_64_kib_of_the_body() {
    let body = vec![b'x'; MAX_RECORDED_BODY_BYTES + 10];
    let request = InboundRequest {
        headers: &[],
        body: &body,
        received_at: at(0),
    };
    let failure = SourceFailure::new(
        &SourceId::parse("src_a").unwrap(),
        &request,
        (FailureKind::Script, "boom".into()),
        Vec::new(),
        1,
    );
    assert!(failure.id.as_str().starts_with("inf_"));
    assert_eq!(
        (failure.body.len(), failure.body_truncated),
        (MAX_RECORDED_BODY_BYTES, true)
    );
}
