use super::*;
use crate::domain::validation::FieldError;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

const DEPLOYED: UrlPolicy = UrlPolicy {
    allow_http: false,
    allow_private: false,
};
const LOCAL: UrlPolicy = UrlPolicy {
    allow_http: true,
    allow_private: true,
};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn secret(n: u8) -> Secret {
    Secret::generate([n; 32])
}

fn endpoint() -> Endpoint {
    Endpoint {
        id: EndpointId::parse("ep_1").unwrap(),
        url: EndpointUrl::parse("https://cms.example.com/hook", &DEPLOYED).unwrap(),
        secrets: vec![EndpointSecret {
            secret: secret(1),
            expires_at: None,
        }],
        event_types: vec![TypePattern::All],
        tenant_id: None,
        origin: None,
        enabled: true,
        disabled_reason: None,
        headers: ExtraHeaders::default(),
        timeout_ms: DEFAULT_TIMEOUT_MS,
        rate_limit: None,
        circuit: CircuitConfig::default(),
        retry: RetryPolicy::default(),
        ordering: DeliveryOrder::None,
        signing: Signing::default(),
        batch: None,
        transform: None,
        description: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

#[test]
fn accepts_public_https_urls() {
    let url = EndpointUrl::parse("https://cms.example.com/api/webhooks?x=1", &DEPLOYED).unwrap();
    assert_eq!(url.as_str(), "https://cms.example.com/api/webhooks?x=1");
    assert_eq!(url.host_str(), "cms.example.com");
    assert!(EndpointUrl::parse("https://93.184.215.14:8443/", &DEPLOYED).is_ok());
    assert!(EndpointUrl::parse("https://[2606:4700::1111]/", &DEPLOYED).is_ok());
    // A name is not resolved here: the sender checks what it resolves to.
    assert!(EndpointUrl::parse("https://internal.corp.example/", &DEPLOYED).is_ok());
}

#[test]
fn scheme_host_userinfo_fragment_and_length_rules() {
    let err = |s: &str, policy: &UrlPolicy| EndpointUrl::parse(s, policy).unwrap_err();
    assert_eq!(err("http://cms.example.com/", &DEPLOYED), "must use https");
    assert!(EndpointUrl::parse(
        "http://cms.example.com/",
        &UrlPolicy {
            allow_http: true,
            allow_private: false
        }
    )
    .is_ok());
    assert!(err("ftp://cms.example.com/", &LOCAL).contains("http or https"));
    assert!(err("file:///etc/passwd", &LOCAL).contains("http or https"));
    assert!(err("cms.example.com/hook", &LOCAL).contains("valid absolute URL"));
    assert!(err("https://", &LOCAL).contains("host"));
    assert!(err("https://:443/", &LOCAL).contains("host"));
    assert!(err("https://user:pass@cms.example.com/", &DEPLOYED).contains("credentials"));
    assert!(err("https://user@cms.example.com/", &DEPLOYED).contains("credentials"));
    assert!(err("https://cms.example.com/#frag", &DEPLOYED).contains("fragment"));
    assert!(err("https://cms.example.com/#", &DEPLOYED).contains("fragment"));
    assert!(err(" https://cms.example.com/", &DEPLOYED).contains("whitespace"));
    assert!(err("https://cms.exa\nmple.com/", &DEPLOYED).contains("whitespace"));
    let long = format!("https://cms.example.com/{}", "a".repeat(MAX_URL_CHARS));
    assert!(err(&long, &DEPLOYED).contains("at most 2048"));
    let exact = format!("https://cms.example.com/{}", "a".repeat(MAX_URL_CHARS - 24));
    assert_eq!(exact.len(), MAX_URL_CHARS);
    assert!(EndpointUrl::parse(&exact, &DEPLOYED).is_ok());
    // Every problem is reported, not only the first.
    let all = err("http://u:p@127.0.0.1/#x", &DEPLOYED);
    for part in ["https", "credentials", "fragment", "loopback"] {
        assert!(all.contains(part), "{all}");
    }
}

#[test]
fn literal_ips_in_every_spelling_are_classified() {
    let loopback = [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://localhost:8080/",
        "http://LOCALHOST/",
        "http://localhost./",
        "http://api.localhost/",
        "http://%6c%6fcalhost/",
        "http://\u{24db}ocalhost/", // IDNA maps the circled letter to "localhost"
        "http://%31%32%37.0.0.1/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    ];
    for url in loopback {
        let e = EndpointUrl::parse(
            url,
            &UrlPolicy {
                allow_http: true,
                allow_private: false,
            },
        );
        assert_eq!(
            e.unwrap_err(),
            "must not point to a loopback address",
            "{url}"
        );
        assert!(EndpointUrl::parse(url, &LOCAL).is_ok(), "{url}");
    }
    let private = [
        "https://10.0.0.1/",
        "https://167772161/",
        "https://192.168.1.1/",
        "https://[fd12::1]/",
    ];
    for url in private {
        assert!(
            EndpointUrl::parse(url, &DEPLOYED)
                .unwrap_err()
                .contains("private"),
            "{url}"
        );
        assert!(EndpointUrl::parse(url, &LOCAL).is_ok(), "{url}");
    }
    // Metadata, unspecified and reserved addresses are refused even in local mode.
    let never = [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://0.0.0.0/",
        "http://0/",
        "http://[::]/",
        "http://192.0.2.1/",
        "http://255.255.255.255/",
        "http://[64:ff9b::10.0.0.1]/",
    ];
    for url in never {
        assert!(EndpointUrl::parse(url, &LOCAL).is_err(), "{url}");
    }
}

#[test]
fn storage_form_loads_without_the_policy_and_round_trips() {
    let url: EndpointUrl = serde_json::from_str("\"http://127.0.0.1:8080/hook\"").unwrap();
    assert_eq!(url.as_str(), "http://127.0.0.1:8080/hook");
    assert_eq!(
        serde_json::to_string(&url).unwrap(),
        "\"http://127.0.0.1:8080/hook\""
    );
    assert_eq!(String::from(url.clone()), "http://127.0.0.1:8080/hook");
    assert_eq!(url.as_url().port(), Some(8080));
    assert!(serde_json::from_str::<EndpointUrl>("\"ftp://x.example/\"").is_err());
    assert!(serde_json::from_str::<EndpointUrl>("\"not a url\"").is_err());
}

fn headers(pairs: &[(&str, &str)]) -> Result<ExtraHeaders, Vec<FieldError>> {
    ExtraHeaders::validate(pairs.iter().copied(), "headers")
}

#[test]
fn headers_are_lower_cased_and_iterable() {
    let h = headers(&[("X-Team", "cms"), ("Authorization", "Bearer abc\tdef")]).unwrap();
    let pairs: Vec<_> = h.iter().collect();
    assert_eq!(
        pairs,
        [("authorization", "Bearer abc\tdef"), ("x-team", "cms")]
    );
    assert_eq!(h.len(), 2);
    let map: BTreeMap<String, String> = h.into();
    assert_eq!(map["x-team"], "cms");
    assert!(headers(&[("x-empty", "")]).is_ok());
    assert!(headers(&[("!#$%&'*+-.^`|~09az", "v")]).is_ok());
}

#[test]
fn header_names_with_underscores_are_refused_but_stored_ones_load() {
    for name in ["webhook_signature", "X_Team", "x-a_b"] {
        let errors = headers(&[(name, "v")]).unwrap_err();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert_eq!(errors[0].field, format!("headers.{name}"));
        assert!(errors[0].message.contains('_'), "{}", errors[0].message);
    }
    let stored: ExtraHeaders = serde_json::from_str(r#"{"x_team": "cms"}"#).unwrap();
    assert_eq!(stored.iter().collect::<Vec<_>>(), [("x_team", "cms")]);
}

#[test]
fn header_injection_is_refused() {
    for value in [
        "b\r\nwebhook-signature: x",
        "b\nx",
        "b\rx",
        "b\0x",
        "caf\u{e9}",
        "\u{7f}",
    ] {
        let errors = headers(&[("x-a", value)]).unwrap_err();
        assert_eq!(errors.len(), 1, "{value:?}");
        assert_eq!(errors[0].field, "headers.x-a");
        assert!(errors[0].message.contains("visible ASCII"), "{value:?}");
    }
    for name in ["x a", "x:a", "x\r\na", "", "é", "x/a", "x\"a", "x(a)"] {
        assert!(headers(&[(name, "v")]).is_err(), "{name:?}");
    }
    // The path escapes control characters instead of carrying them into logs.
    let errors = headers(&[("x\r\nset-cookie", "v")]).unwrap_err();
    assert_eq!(errors[0].field, "headers.x\\r\\nset-cookie");
}

#[test]
fn reserved_and_oversized_headers_are_refused() {
    for name in [
        "webhook-signature",
        "Webhook-Id",
        "webhook-anything",
        "content-type",
        "Content-Length",
        "host",
        "user-agent",
        "transfer-encoding",
        "connection",
        "te",
        "upgrade",
        "trailer",
        "expect",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "content-encoding",
    ] {
        let errors = headers(&[(name, "v")]).unwrap_err();
        assert!(errors[0].message.contains("reserved"), "{name}");
    }
    assert!(headers(&[("webhooks", "v")]).is_ok());
    assert!(headers(&[(&"x".repeat(64), "v")]).is_ok());
    assert!(headers(&[(&"x".repeat(65), "v")]).is_err());
    assert!(headers(&[("x-a", &"v".repeat(1024))]).is_ok());
    assert!(headers(&[("x-a", &"v".repeat(1025))]).is_err());
    assert!(headers(&[("X-A", "1"), ("x-a", "2")]).unwrap_err()[0]
        .message
        .contains("twice"));
}

#[test]
fn trace_context_headers_are_reserved_but_stored_ones_load() {
    for name in ["traceparent", "TraceParent", "tracestate"] {
        let errors = headers(&[(name, "v")]).unwrap_err();
        assert!(errors[0].message.contains("reserved"), "{name}");
    }
    let stored: ExtraHeaders = serde_json::from_str(r#"{"traceparent": "x"}"#).unwrap();
    assert_eq!(stored.len(), 1);
}

#[test]
fn header_count_is_bounded_and_all_errors_are_reported() {
    let names: Vec<String> = (0..21).map(|i| format!("x-{i}")).collect();
    let too_many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    assert!(ExtraHeaders::validate(too_many[..20].iter().copied(), "headers").is_ok());
    let errors = ExtraHeaders::validate(too_many.iter().copied(), "headers").unwrap_err();
    assert_eq!(
        errors,
        [FieldError::new("headers", "must have at most 20 headers")]
    );
    let errors = headers(&[("host", "x"), ("x-b", "a\nb"), ("x c", "v")]).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["headers.host", "headers.x-b", "headers.x c"]);
}

#[test]
fn headers_deserialize_only_when_valid() {
    let h: ExtraHeaders = serde_json::from_str(r#"{"X-Team":"cms"}"#).unwrap();
    assert_eq!(serde_json::to_string(&h).unwrap(), r#"{"x-team":"cms"}"#);
    let err = serde_json::from_str::<ExtraHeaders>(r#"{"x-a":"b\r\nwebhook-id: 1"}"#).unwrap_err();
    assert!(err.to_string().contains("headers.x-a"), "{err}");
}

#[test]
fn rotation_keeps_old_secrets_signing_through_the_grace_period() {
    let mut ep = endpoint();
    ep.rotate_secret(
        secret(2),
        at(100),
        Duration::hours(DEFAULT_ROTATION_GRACE_HOURS),
    );
    assert_eq!(ep.signing_secrets(at(100)), [&secret(2), &secret(1)]);
    assert_eq!(ep.secrets[1].expires_at, Some(at(100 + 24 * 3600)));
    assert_eq!(ep.updated_at, at(100));
    assert_eq!(ep.signing_secrets(at(100 + 24 * 3600 - 1)).len(), 2);
    // Expiry is exclusive: at the cutoff only the new secret signs.
    assert_eq!(ep.signing_secrets(at(100 + 24 * 3600)), [&secret(2)]);
}

#[test]
fn rotation_never_extends_an_earlier_expiry_and_drops_expired_secrets() {
    let mut ep = endpoint();
    ep.rotate_secret(secret(2), at(0), Duration::seconds(100));
    ep.rotate_secret(secret(3), at(50), Duration::seconds(1000));
    assert_eq!(ep.secrets[1].expires_at, Some(at(1050)));
    assert_eq!(ep.secrets[2].expires_at, Some(at(100)), "not extended");
    ep.rotate_secret(secret(4), at(200), Duration::seconds(1000));
    let kept: Vec<&Secret> = ep.secrets.iter().map(|s| &s.secret).collect();
    assert_eq!(
        kept,
        [&secret(4), &secret(3), &secret(2)],
        "secret 1 had expired"
    );
    // A zero grace revokes the old secrets at once.
    ep.rotate_secret(secret(5), at(300), Duration::zero());
    assert_eq!(ep.signing_secrets(at(300)), [&secret(5)]);
    // Extreme graces saturate instead of overflowing.
    ep.rotate_secret(secret(6), at(400), Duration::MAX);
    ep.rotate_secret(secret(7), at(400), Duration::MIN);
    assert_eq!(ep.signing_secrets(at(400)), [&secret(7)]);
}

#[test]
fn rotation_keeps_at_most_five_secrets() {
    let mut ep = endpoint();
    for n in 2..=9 {
        ep.rotate_secret(secret(n), at(i64::from(n)), Duration::hours(24));
    }
    assert_eq!(ep.secrets.len(), MAX_SECRETS);
    assert_eq!(ep.signing_secrets(at(10))[0], &secret(9));
    assert_eq!(ep.signing_secrets(at(10))[4], &secret(5));
}

#[test]
fn timeout_and_disable() {
    let mut ep = endpoint();
    assert_eq!(ep.timeout(), std::time::Duration::from_millis(15_000));
    ep.timeout_ms = 5;
    assert_eq!(
        ep.timeout(),
        std::time::Duration::from_millis(MIN_TIMEOUT_MS)
    );
    ep.timeout_ms = u64::MAX;
    assert_eq!(
        ep.timeout(),
        std::time::Duration::from_millis(MAX_TIMEOUT_MS)
    );
    ep.disable("410 Gone", at(9));
    assert!(!ep.enabled);
    assert_eq!(ep.disabled_reason.as_deref(), Some("410 Gone"));
    assert_eq!(ep.updated_at, at(9));
}

#[test]
fn storage_form_round_trips_with_secrets() {
    let mut ep = endpoint();
    ep.rotate_secret(secret(2), at(1), Duration::hours(1));
    for ordering in [DeliveryOrder::Subject, DeliveryOrder::None] {
        ep.ordering = ordering;
        let json = serde_json::to_string(&ep).unwrap();
        assert!(
            json.contains(&format!("\"ordering\":\"{ordering}\"")),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Endpoint>(&json).unwrap(), ep);
    }
}

#[test]
fn an_endpoint_stored_before_ordering_existed_loads_unordered() {
    // Written by a release without `ordering`: it kept no order then, and must not start to.
    let stored = r#"{
        "id": "ep_1", "url": "https://cms.example.com/hook",
        "secrets": [{"secret": "whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}],
        "event_types": ["*"], "tenant_id": null, "origin": null, "enabled": true,
        "disabled_reason": null, "headers": {}, "timeout_ms": 15000, "rate_limit": null,
        "circuit": {"failure_threshold": 5, "success_threshold": 2, "open_timeout_secs": 60,
                    "half_open_max_requests": 3},
        "retry": {"schedule_secs": [5, 300]}, "description": null,
        "created_at": "2023-11-14T22:13:20Z", "updated_at": "2023-11-14T22:13:20Z"
    }"#;
    let ep: Endpoint = serde_json::from_str(stored).unwrap();
    assert_eq!(ep.ordering, DeliveryOrder::None);
    assert_eq!(ep.secrets, endpoint().secrets);
    assert_eq!(ep.order_key(&event(Some("u_1"), None)), None);
    // An unknown value is a corrupt record, not silently unordered.
    let bad = stored.replacen(
        "\"description\"",
        "\"ordering\": \"fifo\", \"description\"",
        1,
    );
    assert!(serde_json::from_str::<Endpoint>(&bad).is_err());
}

fn event(subject: Option<&str>, tenant: Option<&str>) -> Event {
    serde_json::from_value(serde_json::json!({
        "id": "evt_1", "type": "user.updated", "timestamp": "2026-11-22T10:00:00Z",
        "data": {}, "subject": subject, "tenant_id": tenant
    }))
    .unwrap()
}

#[test]
fn an_ordered_endpoint_keys_events_by_tenant_and_subject() {
    let mut ep = endpoint();
    ep.ordering = DeliveryOrder::Subject;
    let id = ep.id.clone();
    assert_eq!(
        ep.order_key(&event(Some("u_1"), None)),
        Some(OrderKey::new(&id, None, "u_1"))
    );
    assert_eq!(
        ep.order_key(&event(Some("u_1"), Some("acme"))),
        Some(OrderKey::new(&id, Some("acme"), "u_1"))
    );
    // Same subject in another tenant, or another subject: another line.
    assert_ne!(
        ep.order_key(&event(Some("u_1"), Some("acme"))),
        ep.order_key(&event(Some("u_1"), Some("globex")))
    );
    assert_ne!(
        ep.order_key(&event(Some("u_1"), None)),
        ep.order_key(&event(Some("u_2"), None))
    );
    // Events without a subject are not ordered.
    assert_eq!(ep.order_key(&event(None, Some("acme"))), None);
}

#[test]
fn an_unordered_endpoint_keys_nothing() {
    let ep = endpoint();
    assert_eq!(ep.ordering, DeliveryOrder::None);
    assert_eq!(ep.order_key(&event(Some("u_1"), Some("acme"))), None);
    assert_eq!(ep.order_key(&event(None, None)), None);
}

proptest! {
    #[test]
    fn signing_secrets_are_exactly_the_unexpired_ones(
        rotations in prop::collection::vec((0i64..1000, -10i64..2000), 0..12),
        probe in 0i64..5000,
    ) {
        let mut ep = endpoint();
        let mut now = 0;
        for (n, (step, grace)) in rotations.iter().enumerate() {
            now += step;
            ep.rotate_secret(secret(n as u8 + 2), at(now), Duration::seconds(*grace));
            prop_assert!(ep.secrets.len() <= MAX_SECRETS);
            prop_assert!(ep.secrets[0].expires_at.is_none());
            prop_assert!(ep.secrets[1..].iter().all(|s| s.expires_at.is_some()));
        }
        let signing = ep.signing_secrets(at(probe));
        let expected: Vec<&Secret> = ep.secrets.iter()
            .filter(|s| s.expires_at.is_none_or(|e| e > at(probe)))
            .map(|s| &s.secret).collect();
        prop_assert_eq!(&signing, &expected);
        prop_assert_eq!(signing[0], &ep.secrets[0].secret);
    }

    #[test]
    fn header_values_with_line_breaks_are_always_refused(
        before in "[ -~]{0,20}", brk in prop_oneof![Just('\r'), Just('\n'), Just('\0')], after in "[ -~]{0,20}"
    ) {
        let value = format!("{before}{brk}{after}");
        prop_assert!(headers(&[("x-a", &value)]).is_err());
    }
}
