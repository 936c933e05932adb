use super::*;
use crate::domain::endpoint::{Endpoint, UrlPolicy};
use crate::domain::endpoint_spec::parse_new;
use crate::domain::ids::EventId;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

fn t(s: &str) -> EventType {
    EventType::parse(s).unwrap()
}

fn p(s: &str) -> TypePattern {
    TypePattern::parse(s).unwrap()
}

fn endpoint(body: Value) -> Endpoint {
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let mut body = body;
    body["url"] = json!("https://cms.example.com/hook");
    parse_new(&body, &UrlPolicy::default(), now, &mut || 7, [1; 32])
        .unwrap()
        .0
}

fn matches(endpoint: &Endpoint, event: &Event) -> bool {
    endpoint.receives(event)
}

fn event(event_type: &str, tenant: Option<&str>, origin: Option<&str>) -> Event {
    Event {
        id: EventId::parse("evt_1").unwrap(),
        event_type: t(event_type),
        timestamp: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        data: Default::default(),
        origin: origin.map(str::to_owned),
        subject: None,
        tenant_id: tenant.map(str::to_owned),
        correlation_id: None,
        sequence: None,
    }
}

#[test]
fn parses_the_three_pattern_forms() {
    assert_eq!(p("*"), TypePattern::All);
    assert_eq!(p("user.*"), TypePattern::Prefix("user.".into()));
    assert_eq!(p("a.b.c.d.e.*"), TypePattern::Prefix("a.b.c.d.e.".into()));
    assert_eq!(p("user.created"), TypePattern::Exact(t("user.created")));
}

#[test]
fn rejects_malformed_patterns() {
    for bad in [
        "",
        "**",
        ".*",
        "*.*",
        "user*",
        "user.",
        "*.created",
        "User.*",
        "user..*",
        "user.*.*",
        "a.b.c.d.e.f.*",
        "user",
        "user-x.*",
        "user .*",
    ] {
        assert!(TypePattern::parse(bad).is_err(), "{bad:?}");
    }
    assert!(TypePattern::parse(&format!("{}.*", "a".repeat(127))).is_err());
}

#[test]
fn patterns_round_trip_through_strings_and_serde() {
    for s in ["*", "user.*", "api_key.v2.*", "session.revoked"] {
        let pattern = p(s);
        assert_eq!(pattern.to_string(), s);
        assert_eq!(String::from(pattern.clone()), s);
        assert_eq!(TypePattern::try_from(s.to_owned()).unwrap(), pattern);
        let json = serde_json::to_string(&pattern).unwrap();
        assert_eq!(serde_json::from_str::<TypePattern>(&json).unwrap(), pattern);
    }
    assert!(serde_json::from_str::<TypePattern>("\"nope\"").is_err());
}

#[test]
fn type_matching() {
    assert!(p("*").matches_type(&t("anything.at.all")));
    assert!(p("user.*").matches_type(&t("user.created")));
    assert!(p("user.*").matches_type(&t("user.admin.created")));
    assert!(!p("user.*").matches_type(&t("users.created")));
    assert!(!p("user.*").matches_type(&t("session.created")));
    assert!(p("user.admin.*").matches_type(&t("user.admin.created")));
    assert!(!p("user.admin.*").matches_type(&t("user.admin")));
    assert!(p("user.created").matches_type(&t("user.created")));
    assert!(!p("user.created").matches_type(&t("user.created.v2")));
    // A hand-built prefix without its trailing dot still respects segment boundaries.
    assert!(!TypePattern::Prefix("user".into()).matches_type(&t("users.created")));
    assert!(TypePattern::Prefix("user".into()).matches_type(&t("user.created")));
    assert!(!TypePattern::Prefix(String::new()).matches_type(&t("user.created")));
}

#[test]
fn disabled_endpoints_receive_nothing() {
    let mut ep = endpoint(json!({"event_types": ["*"]}));
    assert!(matches(&ep, &event("user.created", None, None)));
    ep.enabled = false;
    assert!(!matches(&ep, &event("user.created", None, None)));
}

#[test]
fn any_pattern_selects_and_an_empty_list_selects_nothing() {
    let mut ep = endpoint(json!({"event_types": ["session.revoked", "user.*"]}));
    assert!(matches(&ep, &event("user.deleted", None, None)));
    assert!(matches(&ep, &event("session.revoked", None, None)));
    assert!(!matches(&ep, &event("session.created", None, None)));
    ep.event_types.clear();
    assert!(!matches(&ep, &event("user.deleted", None, None)));
}

#[test]
fn tenant_scoping() {
    let scoped = endpoint(json!({"event_types": ["*"], "tenant_id": "acme"}));
    assert!(matches(&scoped, &event("user.created", Some("acme"), None)));
    assert!(!matches(
        &scoped,
        &event("user.created", Some("globex"), None)
    ));
    assert!(!matches(&scoped, &event("user.created", None, None)));
    assert!(!matches(
        &scoped,
        &event("user.created", Some("ACME"), None)
    ));
    let unscoped = endpoint(json!({"event_types": ["*"]}));
    assert!(matches(
        &unscoped,
        &event("user.created", Some("acme"), None)
    ));
    assert!(matches(
        &unscoped,
        &event("user.created", Some("globex"), None)
    ));
    assert!(matches(&unscoped, &event("user.created", None, None)));
}

#[test]
fn origin_loop_guard() {
    let payload = endpoint(json!({"event_types": ["user.*"], "origin": "payload"}));
    // A change Payload made is not sent back to Payload...
    assert!(!matches(
        &payload,
        &event("user.updated", None, Some("payload"))
    ));
    // ...but changes from elsewhere, or of unknown origin, are.
    assert!(matches(
        &payload,
        &event("user.updated", None, Some("better-auth"))
    ));
    assert!(matches(&payload, &event("user.updated", None, None)));
    // An endpoint without an origin receives every origin's events.
    let billing = endpoint(json!({"event_types": ["user.*"]}));
    assert!(matches(
        &billing,
        &event("user.updated", None, Some("payload"))
    ));
}

#[test]
fn all_rules_apply_together() {
    let ep = endpoint(json!({"event_types": ["user.*"], "tenant_id": "acme", "origin": "payload"}));
    assert!(matches(
        &ep,
        &event("user.created", Some("acme"), Some("better-auth"))
    ));
    assert!(!matches(
        &ep,
        &event("session.created", Some("acme"), Some("better-auth"))
    ));
    assert!(!matches(
        &ep,
        &event("user.created", Some("globex"), Some("better-auth"))
    ));
    assert!(!matches(
        &ep,
        &event("user.created", Some("acme"), Some("payload"))
    ));
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("user".to_owned()),
        Just("users".to_owned()),
        Just("use".to_owned()),
        Just("user_x".to_owned()),
        "[a-z0-9_]{1,8}",
    ]
}

proptest! {
    #[test]
    fn user_star_matches_exactly_types_whose_first_segment_is_user(
        segments in prop::collection::vec(segment(), 2..=6)
    ) {
        let s = segments.join(".");
        prop_assume!(s.len() <= 128);
        let event_type = t(&s);
        prop_assert_eq!(p("user.*").matches_type(&event_type), segments[0] == "user");
    }

    #[test]
    fn parsed_patterns_round_trip(segments in prop::collection::vec("[a-z0-9_]{1,8}", 1..=5)) {
        let s = format!("{}.*", segments.join("."));
        let pattern = p(&s);
        prop_assert_eq!(pattern.to_string(), s.clone());
        prop_assert_eq!(TypePattern::parse(&pattern.to_string()).unwrap(), pattern);
    }
}
