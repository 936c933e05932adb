use super::*;
use crate::domain::endpoint::DEFAULT_ROTATION_GRACE_HOURS;
use chrono::TimeZone;
use serde_json::json;

const DEPLOYED: UrlPolicy = UrlPolicy {
    allow_http: false,
    allow_private: false,
};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn create(body: Value) -> Result<(Endpoint, Secret), Vec<FieldError>> {
    parse_new(&body, &DEPLOYED, at(0), &mut || 42, [7; 32])
}

fn errors(body: Value) -> Vec<FieldError> {
    create(body).unwrap_err()
}

/// The single error a body produces, as (field, message).
fn one_error(body: Value) -> (String, String) {
    let errs = errors(body);
    assert_eq!(errs.len(), 1, "{errs:?}");
    (errs[0].field.clone(), errs[0].message.clone())
}

fn minimal() -> Value {
    json!({"url": "https://cms.example.com/hook", "event_types": ["user.*"]})
}

fn with(field: &str, value: Value) -> Value {
    let mut body = minimal();
    body[field] = value;
    body
}

fn design_example() -> Value {
    json!({
        "url": "https://cms.example.com/api/webhooks/auth",
        "event_types": ["user.*", "session.revoked"], "tenant_id": null, "origin": "payload",
        "enabled": true, "headers": {"x-team": "cms"}, "timeout_ms": 15000,
        "rate_limit": {"requests_per_second": 10, "burst_size": 20},
        "circuit": {"failure_threshold": 5, "success_threshold": 2, "open_timeout_secs": 60, "half_open_max_requests": 3},
        "retry": {"schedule_secs": [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]},
        "ordering": "subject", "description": "Payload CMS users collection"
    })
}

#[test]
fn creates_the_design_example() {
    let (ep, secret) = create(design_example()).unwrap();
    assert_eq!(ep.id, EndpointId::generate(at(0), 42));
    assert_eq!(ep.url.as_str(), "https://cms.example.com/api/webhooks/auth");
    assert_eq!(
        ep.event_types,
        [
            TypePattern::parse("user.*").unwrap(),
            TypePattern::parse("session.revoked").unwrap()
        ]
    );
    assert_eq!(
        (ep.tenant_id.as_deref(), ep.origin.as_deref()),
        (None, Some("payload"))
    );
    assert!(ep.enabled && ep.disabled_reason.is_none());
    assert_eq!(ep.headers.iter().collect::<Vec<_>>(), [("x-team", "cms")]);
    assert_eq!(ep.timeout_ms, 15_000);
    assert_eq!(
        ep.rate_limit,
        Some(RateLimit {
            requests_per_second: 10.0,
            burst_size: 20
        })
    );
    assert_eq!(
        ep.circuit,
        CircuitConfig {
            failure_threshold: 5,
            success_threshold: 2,
            open_timeout_secs: 60,
            half_open_max_requests: 3
        }
    );
    let schedule_secs = vec![5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
    assert_eq!(ep.retry, RetryPolicy::Schedule { schedule_secs });
    assert_eq!(ep.ordering, DeliveryOrder::Subject);
    assert_eq!(
        ep.description.as_deref(),
        Some("Payload CMS users collection")
    );
    assert_eq!((ep.created_at, ep.updated_at), (at(0), at(0)));
    assert_eq!(secret, Secret::generate([7; 32]));
    assert_eq!(
        ep.secrets,
        [EndpointSecret {
            secret,
            expires_at: None
        }]
    );
}

#[test]
fn omitted_fields_take_the_defaults() {
    let (ep, _) = create(minimal()).unwrap();
    assert!(ep.enabled);
    assert!(ep.headers.is_empty());
    assert_eq!(ep.timeout_ms, DEFAULT_TIMEOUT_MS);
    assert_eq!(ep.rate_limit, None);
    assert_eq!(ep.circuit, CircuitConfig::default());
    assert_eq!(ep.retry, RetryPolicy::default());
    // New endpoints keep each subject's order unless they opt out.
    assert_eq!(ep.ordering, DeliveryOrder::FOR_NEW_ENDPOINTS);
    assert_eq!(ep.ordering, DeliveryOrder::Subject);
    assert_eq!(
        (ep.tenant_id, ep.origin, ep.description),
        (None, None, None)
    );
    // Missing circuit fields are filled in from the defaults.
    let (ep, _) = create(with("circuit", json!({"failure_threshold": 9}))).unwrap();
    assert_eq!(
        ep.circuit,
        CircuitConfig {
            failure_threshold: 9,
            ..CircuitConfig::default()
        }
    );
}

#[test]
fn a_given_secret_is_used_and_validated() {
    let given = Secret::generate([3; 32]).expose();
    let (ep, secret) = create(with("secret", json!(given))).unwrap();
    assert_eq!(secret.expose(), given);
    assert_eq!(ep.signing_secrets(at(0)), [&secret]);
    assert_eq!(one_error(with("secret", json!("hunter2"))).0, "secret");
    assert_eq!(
        one_error(with("secret", json!(5))),
        ("secret".into(), "must be a string".into())
    );
    assert_eq!(
        create(with("secret", Value::Null)).unwrap().1,
        Secret::generate([7; 32])
    );
}

#[test]
fn ordering_can_be_turned_off_on_create() {
    let (ep, _) = create(with("ordering", json!("none"))).unwrap();
    assert_eq!(ep.ordering, DeliveryOrder::None);
    let (ep, _) = create(with("ordering", json!("subject"))).unwrap();
    assert_eq!(ep.ordering, DeliveryOrder::Subject);
}

#[test]
fn ordering_refuses_anything_but_its_two_names() {
    for (value, message) in [
        (
            json!("fifo"),
            "must be \"subject\" or \"none\", not \"fifo\"",
        ),
        (
            json!("Subject"),
            "must be \"subject\" or \"none\", not \"Subject\"",
        ),
        (json!(""), "must be \"subject\" or \"none\", not \"\""),
        (Value::Null, "must be \"subject\" or \"none\""),
        (json!(true), "must be \"subject\" or \"none\""),
        (json!(1), "must be \"subject\" or \"none\""),
        (json!(["subject"]), "must be \"subject\" or \"none\""),
        (json!({"by": "subject"}), "must be \"subject\" or \"none\""),
        // Not echoed back.
        (json!("x".repeat(33)), "must be \"subject\" or \"none\""),
    ] {
        assert_eq!(
            one_error(with("ordering", value.clone())),
            ("ordering".into(), message.into()),
            "{value}"
        );
        let errs = patch(json!({ "ordering": value })).unwrap_err();
        assert_eq!(errs, [FieldError::new("ordering", message)], "{value}");
    }
}

#[test]
fn the_exponential_retry_form_is_accepted() {
    let retry = json!({"initial_delay_ms": 1000, "backoff_multiplier": 2.0, "max_delay_ms": 60000, "max_retries": 5});
    let (ep, _) = create(with("retry", retry)).unwrap();
    assert_eq!(
        ep.retry,
        RetryPolicy::Exponential {
            initial_delay_ms: 1000,
            backoff_multiplier: 2.0,
            max_delay_ms: 60000,
            max_retries: 5
        }
    );
}

#[test]
fn body_must_be_an_object() {
    for body in [json!([]), json!("x"), Value::Null, json!(1)] {
        assert_eq!(errors(body), [FieldError::new("", "must be a JSON object")]);
    }
}

#[test]
fn required_fields() {
    let errs = errors(json!({}));
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["url", "event_types"]);
    assert!(errs[1].message.contains("[\"*\"]"));
    assert_eq!(one_error(with("event_types", json!([]))).0, "event_types");
    let many: Vec<String> = (0..101).map(|i| format!("t{i}.x")).collect();
    assert_eq!(one_error(with("event_types", json!(many))).0, "event_types");
}

#[test]
fn ssrf_literal_ips_are_refused() {
    for url in [
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://10.1.2.3/",
        "https://169.254.169.254/",
        "https://[::ffff:169.254.169.254]/",
        "https://localhost/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
    ] {
        let (field, message) = one_error(with("url", json!(url)));
        assert_eq!(field, "url");
        assert!(message.starts_with("must not point to"), "{url}: {message}");
    }
    assert_eq!(
        one_error(with("url", json!("http://cms.example.com/"))).1,
        "must use https"
    );
    // Local mode allows loopback but never metadata.
    let local = UrlPolicy {
        allow_http: true,
        allow_private: true,
    };
    let parse = |url: &str| parse_new(&with("url", json!(url)), &local, at(0), &mut || 1, [7; 32]);
    assert!(parse("http://127.0.0.1:9000/hook").is_ok());
    assert!(parse("http://169.254.169.254/").is_err());
}

#[test]
fn each_invalid_field_is_named() {
    let cases = [
        ("url", json!(5), "url", "must be a string"),
        (
            "event_types",
            json!("user.*"),
            "event_types",
            "must be an array",
        ),
        (
            "event_types",
            json!(["user.*", 3]),
            "event_types[1]",
            "must be a string",
        ),
        (
            "event_types",
            json!(["user.*", "User"]),
            "event_types[1]",
            "must be *",
        ),
        (
            "event_types",
            json!(["user.*", "user.*"]),
            "event_types[1]",
            "is listed twice",
        ),
        ("tenant_id", json!(""), "tenant_id", "must not be empty"),
        ("origin", json!("a\nb"), "origin", "control characters"),
        (
            "description",
            json!("x".repeat(1025)),
            "description",
            "at most 1024",
        ),
        ("enabled", json!("yes"), "enabled", "must be a boolean"),
        ("enabled", Value::Null, "enabled", "must be a boolean"),
        ("headers", json!(["x"]), "headers", "must be an object"),
        (
            "headers",
            json!({"x-a": "b\r\nwebhook-signature: x"}),
            "headers.x-a",
            "visible ASCII",
        ),
        (
            "headers",
            json!({"webhook-id": "x"}),
            "headers.webhook-id",
            "reserved",
        ),
        (
            "headers",
            json!({"Content-Type": "text/plain"}),
            "headers.Content-Type",
            "reserved",
        ),
        (
            "headers",
            json!({"x-n": 1}),
            "headers.x-n",
            "must be a string",
        ),
        (
            "timeout_ms",
            json!(99),
            "timeout_ms",
            "between 100 and 30000",
        ),
        (
            "timeout_ms",
            json!(30_001),
            "timeout_ms",
            "between 100 and 30000",
        ),
        (
            "timeout_ms",
            json!(-1),
            "timeout_ms",
            "non-negative integer",
        ),
        (
            "timeout_ms",
            json!(1500.5),
            "timeout_ms",
            "non-negative integer",
        ),
        (
            "rate_limit",
            json!("fast"),
            "rate_limit",
            "must be an object",
        ),
        (
            "rate_limit",
            json!({"requests_per_second": 0, "burst_size": 1}),
            "rate_limit.requests_per_second",
            "",
        ),
        (
            "rate_limit",
            json!({"requests_per_second": 1}),
            "rate_limit.burst_size",
            "is required",
        ),
        (
            "rate_limit",
            json!({"requests_per_second": 1, "burst_size": 1, "x": 1}),
            "rate_limit.x",
            "unknown field",
        ),
        (
            "rate_limit",
            json!({"requests_per_second": 1, "burst_size": -2}),
            "rate_limit.burst_size",
            "integer",
        ),
        (
            "circuit",
            json!({"failure_threshold": "5"}),
            "circuit.failure_threshold",
            "integer",
        ),
        (
            "circuit",
            json!({"failure_threshold": 4_294_967_296u64}),
            "circuit.failure_threshold",
            "4294967295",
        ),
        (
            "circuit",
            json!({"failure_threshold": 0}),
            "circuit.failure_threshold",
            "",
        ),
        (
            "circuit",
            json!({"threshold": 5}),
            "circuit.threshold",
            "unknown field",
        ),
        ("retry", json!({}), "retry", "schedule_secs"),
        (
            "retry",
            json!({"schedule_secs": [5, "x"]}),
            "retry.schedule_secs[1]",
            "integer",
        ),
        (
            "retry",
            json!({"schedule_secs": [5], "max_retries": 3}),
            "retry.max_retries",
            "unknown field",
        ),
        (
            "retry",
            json!({"initial_delay_ms": 1000, "backoff_multiplier": 2.0, "max_delay_ms": 60000}),
            "retry.max_retries",
            "is required",
        ),
        (
            "retry",
            json!({"initial_delay_ms": 1000, "backoff_multiplier": null, "max_delay_ms": 60000, "max_retries": 1}),
            "retry.backoff_multiplier",
            "must be a number",
        ),
        ("id", json!("ep_mine"), "id", "set by the server"),
        (
            "created_at",
            json!("2026-01-01T00:00:00Z"),
            "created_at",
            "set by the server",
        ),
        ("secrets", json!([]), "secrets", "unknown field"),
        ("colour", json!("blue"), "colour", "unknown field"),
    ];
    for (field, value, path, message) in cases {
        let (got_path, got_message) = one_error(with(field, value.clone()));
        if message.is_empty() {
            // The rule belongs to the type's own validate(); only where it reports is ours.
            assert!(
                got_path.starts_with(field),
                "{field}: {value} -> {got_path}"
            );
            continue;
        }
        assert_eq!(got_path, path, "{field}: {value}");
        assert!(
            got_message.contains(message),
            "{field}: {value} -> {got_message}"
        );
    }
}

#[test]
fn all_errors_are_reported_at_once() {
    let body = json!({
        "url": "https://10.0.0.1/", "event_types": ["nope"], "timeout_ms": 1,
        "headers": {"host": "x", "x-a": "b\nc"}, "rate_limit": {"requests_per_second": 0, "burst_size": 0},
        "circuit": {"success_threshold": 0}, "retry": {"schedule_secs": "5"}, "id": "ep_x", "extra": 1,
        "secret": "whsec_short", "tenant_id": 7, "ordering": "fifo",
    });
    let fields: Vec<String> = errors(body).into_iter().map(|e| e.field).collect();
    let ours = [
        "url",
        "event_types[0]",
        "timeout_ms",
        "headers.host",
        "headers.x-a",
        "retry.schedule_secs",
        "id",
        "extra",
        "secret",
        "tenant_id",
        "ordering",
    ];
    for field in ours {
        assert_eq!(
            fields.iter().filter(|f| *f == field).count(),
            1,
            "{field} in {fields:?}"
        );
    }
    // rps 0 and thresholds of 0 are refused by RateLimit's and CircuitConfig's own rules.
    assert!(
        fields.iter().any(|f| f.starts_with("rate_limit")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("circuit")),
        "{fields:?}"
    );
}

#[test]
fn the_view_omits_secrets_and_round_trips_through_create() {
    let (ep, secret) = create(design_example()).unwrap();
    let mut view = serde_json::to_value(ep.to_view()).unwrap();
    let text = view.to_string();
    assert!(
        !text.contains("whsec_") && !text.contains(&secret.expose()) && !text.contains("secrets")
    );
    assert_eq!(view["event_types"], json!(["user.*", "session.revoked"]));
    assert_eq!(view["id"], json!(ep.id.as_str()));
    assert_eq!(view["disabled_reason"], Value::Null);
    assert_eq!(view["ordering"], "subject");
    for read_only in ["id", "created_at", "updated_at", "disabled_reason"] {
        view.as_object_mut().unwrap().remove(read_only);
    }
    let (again, _) = parse_new(&view, &DEPLOYED, at(5), &mut || 42, [7; 32]).unwrap();
    assert_eq!(
        again,
        Endpoint {
            created_at: at(5),
            updated_at: at(5),
            id: EndpointId::generate(at(5), 42),
            ..ep.clone()
        }
    );
    let back: EndpointView =
        serde_json::from_value(serde_json::to_value(ep.to_view()).unwrap()).unwrap();
    assert_eq!(back, ep.to_view());
    // An older server's answer has no `ordering`: it orders nothing.
    let mut old = serde_json::to_value(ep.to_view()).unwrap();
    old.as_object_mut().unwrap().remove("ordering");
    let old: EndpointView = serde_json::from_value(old).unwrap();
    assert_eq!(old.ordering, DeliveryOrder::None);
}

fn current() -> Endpoint {
    create(design_example()).unwrap().0
}

fn patch(body: Value) -> Result<Endpoint, Vec<FieldError>> {
    apply_patch(&current(), &body, &DEPLOYED, at(60))
}

#[test]
fn patch_changes_only_the_given_fields() {
    let before = current();
    let after =
        patch(json!({"description": "new", "circuit": {"open_timeout_secs": 120}})).unwrap();
    assert_eq!(after.description.as_deref(), Some("new"));
    assert_eq!(
        after.circuit,
        CircuitConfig {
            open_timeout_secs: 120,
            ..before.circuit
        }
    );
    assert_eq!(after.updated_at, at(60));
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(
        Endpoint {
            description: before.description.clone(),
            circuit: before.circuit,
            updated_at: before.updated_at,
            ..after
        },
        before
    );
    assert_eq!(
        patch(json!({})).unwrap(),
        Endpoint {
            updated_at: at(60),
            ..before
        }
    );
}

#[test]
fn patch_replaces_headers_retry_and_url() {
    let after = patch(json!({
        "headers": {}, "url": "https://billing.example.com/h", "event_types": ["*"],
        "retry": {"initial_delay_ms": 1000, "backoff_multiplier": 1.5, "max_delay_ms": 60000, "max_retries": 2},
        "timeout_ms": 100, "rate_limit": {"requests_per_second": 0.5, "burst_size": 1}, "tenant_id": "acme",
    }))
    .unwrap();
    assert!(after.headers.is_empty());
    assert_eq!(after.url.host_str(), "billing.example.com");
    assert_eq!(after.event_types, [TypePattern::All]);
    assert!(matches!(
        after.retry,
        RetryPolicy::Exponential { max_retries: 2, .. }
    ));
    assert_eq!(after.timeout_ms, 100);
    assert_eq!(
        after.rate_limit,
        Some(RateLimit {
            requests_per_second: 0.5,
            burst_size: 1
        })
    );
    assert_eq!(after.tenant_id.as_deref(), Some("acme"));
}

#[test]
fn patch_sets_ordering_and_keeps_it_when_not_given() {
    let ordered = current();
    assert_eq!(ordered.ordering, DeliveryOrder::Subject);
    let off = apply_patch(&ordered, &json!({"ordering": "none"}), &DEPLOYED, at(60)).unwrap();
    assert_eq!(
        off,
        Endpoint {
            ordering: DeliveryOrder::None,
            updated_at: at(60),
            ..ordered.clone()
        }
    );
    // A patch without it keeps the current value, either way.
    let kept = apply_patch(&off, &json!({"description": "d"}), &DEPLOYED, at(70)).unwrap();
    assert_eq!(kept.ordering, DeliveryOrder::None);
    let kept = apply_patch(&ordered, &json!({"timeout_ms": 500}), &DEPLOYED, at(70)).unwrap();
    assert_eq!(kept.ordering, DeliveryOrder::Subject);
    let on = apply_patch(&off, &json!({"ordering": "subject"}), &DEPLOYED, at(80)).unwrap();
    assert_eq!(on.ordering, DeliveryOrder::Subject);
    // A bad value alongside good ones applies nothing.
    let errs = apply_patch(
        &off,
        &json!({"ordering": "fifo", "description": "d"}),
        &DEPLOYED,
        at(90),
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "ordering");
}

#[test]
fn patch_null_clears_optional_fields_and_is_refused_for_required_ones() {
    let after =
        patch(json!({"origin": null, "description": null, "rate_limit": null, "tenant_id": null}))
            .unwrap();
    assert_eq!(
        (
            after.origin,
            after.description,
            after.rate_limit,
            after.tenant_id
        ),
        (None, None, None, None)
    );
    for field in [
        "url",
        "event_types",
        "enabled",
        "headers",
        "timeout_ms",
        "circuit",
        "retry",
        "ordering",
    ] {
        let errs = patch(json!({ field: null })).unwrap_err();
        assert_eq!(errs.len(), 1, "{field}");
        assert_eq!(errs[0].field, field);
    }
}

#[test]
fn patch_refuses_secret_id_and_timestamps() {
    let secret = Secret::generate([9; 32]).expose();
    assert_eq!(
        patch(json!({"secret": secret})).unwrap_err(),
        [FieldError::new(
            "secret",
            "cannot be patched; use rotate-secret"
        )]
    );
    for field in ["id", "created_at", "updated_at", "disabled_reason"] {
        assert_eq!(patch(json!({ field: "x" })).unwrap_err()[0].field, field);
    }
    assert_eq!(patch(json!([1])).unwrap_err()[0].field, "");
    // Every error at once, and nothing applied.
    assert_eq!(
        patch(json!({"url": "https://127.0.0.1/", "timeout_ms": 0, "nope": 1}))
            .unwrap_err()
            .len(),
        3
    );
}

#[test]
fn patch_checks_a_new_url_against_the_policy() {
    let errs = patch(json!({"url": "https://[::ffff:10.0.0.1]/"})).unwrap_err();
    assert!(errs[0].message.contains("private"));
}

#[test]
fn re_enabling_clears_the_disabled_reason() {
    let mut ep = current();
    ep.disable("circuit open for 5 days", at(10));
    let still_off = apply_patch(&ep, &json!({"enabled": false}), &DEPLOYED, at(20)).unwrap();
    assert_eq!(
        still_off.disabled_reason.as_deref(),
        Some("circuit open for 5 days")
    );
    let on = apply_patch(&ep, &json!({"enabled": true}), &DEPLOYED, at(20)).unwrap();
    assert!(on.enabled && on.disabled_reason.is_none());
    let off = apply_patch(&on, &json!({"enabled": false}), &DEPLOYED, at(30)).unwrap();
    assert!(!off.enabled && off.disabled_reason.is_none());
}

#[test]
fn patching_keeps_the_secrets() {
    let mut ep = current();
    ep.rotate_secret(
        Secret::generate([8; 32]),
        at(1),
        chrono::Duration::hours(DEFAULT_ROTATION_GRACE_HOURS),
    );
    let after = apply_patch(&ep, &json!({"description": "d"}), &DEPLOYED, at(2)).unwrap();
    assert_eq!(after.secrets, ep.secrets);
}

#[test]
fn unknown_keys_are_reported_with_control_characters_escaped() {
    assert_eq!(
        one_error(with("x\r\nset-cookie", json!(1))).0,
        "x\\r\\nset-cookie"
    );
    assert_eq!(
        one_error(with(
            "rate_limit",
            json!({"requests_per_second": 1, "burst_size": 1, "a\nb": 1})
        ))
        .0,
        "rate_limit.a\\nb"
    );
    assert!(one_error(with("rate_limit", json!(3)))
        .1
        .contains("or null"));
}
