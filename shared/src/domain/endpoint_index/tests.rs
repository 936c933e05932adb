use super::*;
use crate::domain::endpoint::UrlPolicy;
use crate::domain::endpoint_spec::parse_new;
use crate::domain::event::EventType;
use crate::domain::ids::EventId;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

fn endpoint(n: u128, body: Value) -> Endpoint {
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let mut body = body;
    body["url"] = json!("https://cms.example.com/hook");
    parse_new(&body, &UrlPolicy::default(), now, &mut || n, [1; 32])
        .unwrap()
        .0
}

fn event(event_type: &str, tenant: Option<&str>, origin: Option<&str>) -> Event {
    Event {
        id: EventId::parse("evt_1").unwrap(),
        event_type: EventType::parse(event_type).unwrap(),
        timestamp: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        data: Default::default(),
        origin: origin.map(str::to_owned),
        subject: None,
        tenant_id: tenant.map(str::to_owned),
        correlation_id: None,
        sequence: None,
    }
}

/// What the index must answer: every endpoint, walked, judged by the one rule.
fn walked<'a>(endpoints: &'a [Endpoint], event: &Event) -> Vec<&'a Endpoint> {
    let mut all: Vec<&Endpoint> = endpoints.iter().filter(|e| e.receives(event)).collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn ids(endpoints: &[&Endpoint]) -> Vec<String> {
    endpoints.iter().map(|e| e.id.to_string()).collect()
}

#[test]
fn finds_exact_prefix_and_wildcard_subscribers_in_id_order() {
    let exact = endpoint(3, json!({"event_types": ["user.created"]}));
    let prefix = endpoint(1, json!({"event_types": ["user.*"]}));
    let all = endpoint(2, json!({"event_types": ["*"]}));
    let other = endpoint(4, json!({"event_types": ["session.*"]}));
    let index = EndpointIndex::new(vec![exact.clone(), prefix.clone(), all.clone(), other]);
    let mut expected = vec![exact.id, prefix.id, all.id];
    expected.sort();
    let found: Vec<_> = index
        .targets(&event("user.created", None, None))
        .into_iter()
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_tenants_endpoint_gets_only_its_tenants_events() {
    let acme = endpoint(1, json!({"event_types": ["*"], "tenant_id": "acme"}));
    let open = endpoint(2, json!({"event_types": ["*"]}));
    let index = EndpointIndex::new(vec![acme.clone(), open.clone()]);
    assert_eq!(
        ids(&index.targets(&event("user.created", Some("acme"), None))).len(),
        2
    );
    assert_eq!(
        ids(&index.targets(&event("user.created", Some("globex"), None))),
        vec![open.id.to_string()]
    );
    assert_eq!(
        ids(&index.targets(&event("user.created", None, None))),
        vec![open.id.to_string()]
    );
}

#[test]
fn disabled_endpoints_and_the_loop_guard_still_apply() {
    let mut off = endpoint(1, json!({"event_types": ["*"]}));
    off.enabled = false;
    let payload = endpoint(2, json!({"event_types": ["*"], "origin": "payload"}));
    let index = EndpointIndex::new(vec![off, payload.clone()]);
    assert!(index
        .targets(&event("user.updated", None, Some("payload")))
        .is_empty());
    assert_eq!(
        ids(&index.targets(&event("user.updated", None, Some("better-auth")))),
        vec![payload.id.to_string()]
    );
    assert_eq!(index.endpoints().len(), 1);
}

#[test]
fn an_endpoint_matching_by_several_patterns_is_listed_once() {
    let many = endpoint(1, json!({"event_types": ["*", "user.*", "user.created"]}));
    let index = EndpointIndex::new(vec![many]);
    assert_eq!(index.targets(&event("user.created", None, None)).len(), 1);
}

const TYPES: [&str; 6] = [
    "user.created",
    "user.updated",
    "user.profile.changed",
    "session.created",
    "users.created",
    "a.b.c.d.e.f",
];
const PATTERNS: [&str; 9] = [
    "*",
    "user.*",
    "user.profile.*",
    "users.*",
    "session.*",
    "a.b.c.d.e.*",
    "user.created",
    "session.created",
    "a.b.*",
];
const LABELS: [Option<&str>; 3] = [None, Some("acme"), Some("globex")];

fn spec() -> impl Strategy<Value = (std::collections::BTreeSet<usize>, usize, usize, bool)> {
    (
        prop::collection::btree_set(0..PATTERNS.len(), 1..4),
        0..LABELS.len(),
        0..LABELS.len(),
        any::<bool>(),
    )
}

proptest! {
    /// The index answers exactly what a walk over every endpoint answers.
    #[test]
    fn the_index_answers_what_a_full_walk_answers(
        specs in prop::collection::vec(spec(), 0..24),
        kind in 0..TYPES.len(),
        tenant in 0..LABELS.len(),
        origin in 0..LABELS.len(),
    ) {
        let endpoints: Vec<Endpoint> = specs
            .iter()
            .enumerate()
            .map(|(n, (patterns, tenant, origin, enabled))| {
                let types: Vec<&str> = patterns.iter().map(|&p| PATTERNS[p]).collect();
                let mut body = json!({"event_types": types});
                if let Some(t) = LABELS[*tenant] {
                    body["tenant_id"] = json!(t);
                }
                if let Some(o) = LABELS[*origin] {
                    body["origin"] = json!(o);
                }
                let mut made = endpoint(n as u128 * 7919 + 1, body);
                made.enabled = *enabled;
                made
            })
            .collect();
        let event = event(TYPES[kind], LABELS[tenant], LABELS[origin]);
        let index = EndpointIndex::new(endpoints.clone());
        prop_assert_eq!(ids(&index.targets(&event)), ids(&walked(&endpoints, &event)));
    }
}
