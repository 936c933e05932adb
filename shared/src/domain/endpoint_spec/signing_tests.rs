//! The `signing` field on create and patch, and what the view shows of it.

use super::*;
use chrono::TimeZone;
use serde_json::json;

const DEPLOYED: UrlPolicy = UrlPolicy {
    allow_http: false,
    allow_private: false,
};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn create(extra: Value) -> Result<(Endpoint, Secret), Vec<FieldError>> {
    let mut body = json!({"url": "https://cms.example.com/hook", "event_types": ["*"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    parse_new(&body, &DEPLOYED, at(0), &mut || 42, [7; 32])
}

fn fields(errors: Vec<FieldError>) -> Vec<(String, String)> {
    errors.into_iter().map(|e| (e.field, e.message)).collect()
}

#[test]
fn endpoints_sign_with_standard_webhooks_unless_told() {
    let (ep, _) = create(json!({})).unwrap();
    assert_eq!(ep.signing, Signing::new(Scheme::StandardWebhooks));
    let view = serde_json::to_value(ep.to_view()).unwrap();
    assert_eq!(view["signing"], json!({"scheme": "standard-webhooks"}));
    assert!(view.get("public_keys").is_none());
    // Stored before the field existed: loads as what it was, v1.
    let mut stored = serde_json::to_value(&ep).unwrap();
    stored.as_object_mut().unwrap().remove("signing");
    let old: Endpoint = serde_json::from_value(stored).unwrap();
    assert_eq!(old.signing, Signing::default());
}

#[test]
fn a_v1a_endpoint_shows_the_public_key_of_each_signing_secret() {
    let (mut ep, secret) = create(json!({"signing": {"scheme": "standard-webhooks-v1a"}})).unwrap();
    let view = serde_json::to_value(ep.to_view()).unwrap();
    let key = PublicKey::of(&secret).expose();
    assert_eq!(
        view["public_keys"],
        json!([{"key": key, "expires_at": null}])
    );
    ep.rotate_secret(
        Secret::generate([9; 32]),
        at(10),
        chrono::Duration::hours(1),
    );
    let view = ep.to_view();
    assert_eq!(view.public_keys.len(), 2);
    assert_eq!(
        view.public_keys[0].key,
        PublicKey::of(&Secret::generate([9; 32]))
    );
    assert_eq!(view.public_keys[1].key.expose(), key);
    assert_eq!(view.public_keys[1].expires_at, Some(at(3610)));
    // The view's keys cannot be given back.
    let errors = create(json!({"public_keys": []})).unwrap_err();
    assert_eq!(fields(errors)[0].0, "public_keys");
}

#[test]
fn compatibility_schemes_take_header_names_lower_cased() {
    let (ep, _) = create(json!({"signing": {
        "scheme": "hmac-iso-timestamped",
        "signature_header": "X-Acme-Signature",
        "timestamp_header": "x-acme-timestamp"
    }}))
    .unwrap();
    assert_eq!(ep.signing.signature_header(), "x-acme-signature");
    assert_eq!(ep.signing.timestamp_header(), Some("x-acme-timestamp"));
}

#[test]
fn bad_signing_fields_are_each_named() {
    let cases = [
        (json!("hmac-hex"), "signing", "must be an object"),
        (json!({}), "signing.scheme", "is required"),
        (
            json!({"scheme": "hmac"}),
            "signing.scheme",
            "must be one of standard-webhooks, standard-webhooks-v1a, hmac-hex, \
             hmac-sha256-prefixed, hmac-timestamped, hmac-iso-timestamped",
        ),
        (
            json!({"scheme": "standard-webhooks", "signature_header": "x-sig"}),
            "signing.signature_header",
            "is not used by this scheme",
        ),
        (
            json!({"scheme": "hmac-timestamped", "timestamp_header": "x-ts"}),
            "signing.timestamp_header",
            "is not used by this scheme",
        ),
        (
            json!({"scheme": "hmac-hex", "signature_header": "webhook-signature"}),
            "signing.signature_header",
            "webhook-* headers are reserved for the Standard Webhooks headers",
        ),
        (
            json!({"scheme": "hmac-hex", "signature_header": "content-type"}),
            "signing.signature_header",
            "is reserved: authhooks sets it",
        ),
        (
            json!({"scheme": "hmac-hex", "signature_header": "x-event", "timestamp_header": "x-event"}),
            "signing.timestamp_header",
            "must differ from signature_header",
        ),
        (
            json!({"scheme": "hmac-hex", "signature_header": "x-webhook-event"}),
            "signing.signature_header",
            "is a header every compatibility scheme sends for itself",
        ),
        (
            json!({"scheme": "hmac-hex", "colour": "blue"}),
            "signing.colour",
            "unknown field",
        ),
    ];
    for (signing, field, message) in cases {
        let errors = fields(create(json!({ "signing": signing })).unwrap_err());
        assert_eq!(
            errors,
            [(field.to_owned(), message.to_owned())],
            "{signing}"
        );
    }
    let errors = create(json!({"signing": {"scheme": "hmac-hex", "signature_header": "x_sig"}}))
        .unwrap_err();
    assert_eq!(errors[0].field, "signing.signature_header");
    assert!(errors[0].message.contains("'_'"), "{errors:?}");
}

#[test]
fn extra_headers_may_not_name_a_header_the_scheme_sends() {
    let errors = create(json!({
        "signing": {"scheme": "hmac-sha256-prefixed"},
        "headers": {"x-webhook-delivery": "mine", "x-team": "cms"}
    }))
    .unwrap_err();
    assert_eq!(
        fields(errors),
        [(
            "headers.x-webhook-delivery".to_owned(),
            "is sent by the hmac-sha256-prefixed signing scheme".to_owned()
        )]
    );
    // The same header is free under Standard Webhooks...
    let (ep, _) = create(json!({"headers": {"x-webhook-delivery": "mine"}})).unwrap();
    // ...and a patch that moves to a scheme sending it is refused, naming the header.
    let patched = apply_patch(
        &ep,
        &json!({"signing": {"scheme": "hmac-sha256-prefixed"}}),
        &DEPLOYED,
        at(1),
    );
    assert_eq!(
        fields(patched.unwrap_err()),
        [(
            "headers.x-webhook-delivery".to_owned(),
            "is sent by the hmac-sha256-prefixed signing scheme".to_owned()
        )]
    );
    let both = apply_patch(
        &ep,
        &json!({"signing": {"scheme": "hmac-sha256-prefixed"}, "headers": {}}),
        &DEPLOYED,
        at(1),
    )
    .unwrap();
    assert_eq!(both.signing.scheme, Scheme::HmacSha256Prefixed);
    assert!(both.headers.is_empty());
}
