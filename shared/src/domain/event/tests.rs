// Tests state their expectations with unwrap; the workspace lint is aimed at library code.
#![allow(clippy::unwrap_used)]

use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn parse(body: &str) -> Result<Vec<Event>, SubmissionError> {
    parse_with(body.as_bytes(), &EventLimits::default())
}

fn parse_with(body: &[u8], limits: &EventLimits) -> Result<Vec<Event>, SubmissionError> {
    let mut counter = 0u128;
    parse_submission(body, limits, now(), &mut || {
        counter += 1;
        counter
    })
}

fn field_errors(body: &str) -> Vec<(String, String)> {
    match parse(body) {
        Err(SubmissionError::Invalid(errors)) => {
            errors.into_iter().map(|e| (e.field, e.message)).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn fe(field: &str, message: &str) -> (String, String) {
    (field.to_owned(), message.to_owned())
}

#[test]
fn event_types_follow_the_grammar() {
    for t in KNOWN_EVENT_TYPES {
        assert_eq!(EventType::parse(t).unwrap().as_str(), *t);
    }
    for ok in ["a.b", "a_1.b2.c.d.e.f", "x0._"] {
        assert!(EventType::parse(ok).is_ok(), "{ok}");
    }
    let at_limit = format!("a.{}", "b".repeat(126));
    assert!(EventType::parse(&at_limit).is_ok());
    let over = format!("a.{}", "b".repeat(127));
    assert_eq!(
        EventType::parse(&over),
        Err("must be at most 128 characters, not 129".into())
    );
    assert_eq!(EventType::parse(""), Err("must not be empty".into()));
    let segments = "must have 2 to 6 dot-separated segments, not";
    assert_eq!(EventType::parse("user"), Err(format!("{segments} 1")));
    assert_eq!(
        EventType::parse("a.b.c.d.e.f.g"),
        Err(format!("{segments} 7"))
    );
    for empty in ["user..created", ".user.x", "user.created."] {
        assert!(
            EventType::parse(empty)
                .unwrap_err()
                .contains("empty segment"),
            "{empty}"
        );
    }
    for bad in ["User.created", "user-created.x", "user.créé", "user. x"] {
        assert!(
            EventType::parse(bad).unwrap_err().contains("lowercase"),
            "{bad}"
        );
    }
    // Every broken rule is named at once.
    let both = EventType::parse("User").unwrap_err();
    assert!(
        both.contains("segments, not 1") && both.contains("lowercase"),
        "{both}"
    );
}

#[test]
fn event_type_conversions_and_serde() {
    let t = EventType::try_from("user.created".to_owned()).unwrap();
    assert_eq!(t.to_string(), "user.created");
    assert_eq!(String::from(t.clone()), "user.created");
    assert_eq!(serde_json::to_string(&t).unwrap(), "\"user.created\"");
    assert_eq!(
        serde_json::from_str::<EventType>("\"user.created\"").unwrap(),
        t
    );
    assert!(serde_json::from_str::<EventType>("\"USER\"").is_err());
    assert!(EventType::try_from("nope".to_owned()).is_err());
}

#[test]
fn default_limits() {
    let limits = EventLimits::default();
    assert_eq!(limits.max_event_bytes, 65_536);
    assert_eq!(limits.max_batch, 100);
    assert_eq!(limits.max_body_bytes, 1_048_576);
}

#[test]
fn a_full_event_is_normalized() {
    let events = parse(
        r#"{"id":"evt_1","type":"user.created","timestamp":"2026-11-22T12:00:00+02:00",
            "data":{"user":{"id":"u_1"}},"origin":"better-auth","subject":"u_1",
            "tenant_id":"acme","correlation_id":"req-xyz"}"#,
    )
    .unwrap();
    let expected = Event {
        id: EventId::parse("evt_1").unwrap(),
        event_type: EventType::parse("user.created").unwrap(),
        timestamp: Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
        data: json!({"user": {"id": "u_1"}})
            .as_object()
            .unwrap()
            .clone()
            .into(),
        origin: Some("better-auth".into()),
        subject: Some("u_1".into()),
        tenant_id: Some("acme".into()),
        correlation_id: Some("req-xyz".into()),
        sequence: None,
    };
    assert_eq!(events, std::slice::from_ref(&expected));
    let body: Value = serde_json::from_slice(&expected.to_body()).unwrap();
    assert_eq!(body["timestamp"], "2026-11-22T10:00:00Z");
    assert_eq!(body["type"], "user.created");
}

#[test]
fn defaults_fill_id_timestamp_and_labels() {
    let events = parse(r#"{"type":"user.deleted","data":{},"origin":null,"id":null}"#).unwrap();
    let event = &events[0];
    assert_eq!(event.timestamp, now());
    assert_eq!(event.id, EventId::generate(now(), 1));
    assert_eq!(event.origin, None);
    assert_eq!(event.subject, None);
}

#[test]
fn generated_ids_are_time_ordered() {
    let body = br#"{"type":"user.created","data":{}}"#;
    let limits = EventLimits::default();
    let earlier = parse_submission(body, &limits, now(), &mut || u128::MAX).unwrap();
    let later_time = now() + chrono::Duration::milliseconds(1);
    let later = parse_submission(body, &limits, later_time, &mut || 0).unwrap();
    assert!(earlier[0].id.as_str().starts_with("evt_"));
    assert!(earlier[0].id < later[0].id);
}

#[test]
fn event_is_an_alias_for_type() {
    let events = parse(r#"{"event":"session.revoked","data":{}}"#).unwrap();
    assert_eq!(events[0].event_type.as_str(), "session.revoked");
    let both = field_errors(r#"{"type":"user.created","event":"user.created","data":{}}"#);
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].0, "event");
    assert_eq!(
        field_errors(r#"{"event":"Bad","data":{}}"#)[0].0,
        "event",
        "the alias's own errors name the alias"
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    assert_eq!(
        field_errors(r#"{"id":"has space","timestamp":"yesterday","extra":1}"#),
        [
            fe("type", "is required"),
            fe(
                "id",
                "may contain only letters, digits, '_', '-', '.' and ':'"
            ),
            (
                "timestamp".to_owned(),
                field_errors(r#"{"type":"a.b","data":{},"timestamp":"yesterday"}"#)[0]
                    .1
                    .clone()
            ),
            fe("data", "is required"),
            fe("extra", "unknown field"),
        ]
    );
    let three = field_errors(r#"{"type":"x","data":[],"subject":""}"#);
    assert_eq!(three.len(), 3, "{three:?}");
    assert_eq!(three[1], fe("data", "must be a JSON object"));
    assert_eq!(three[2], fe("subject", "must not be empty"));
}

#[test]
fn wrong_json_types_say_what_is_expected() {
    let errors = field_errors(
        r#"{"type":1,"id":2,"timestamp":3,"data":"x","origin":4,"subject":[],
            "tenant_id":{},"correlation_id":true}"#,
    );
    let expected = [
        fe("type", "must be a string"),
        fe("id", "must be a string"),
        fe("timestamp", "must be a string"),
        fe("data", "must be a JSON object"),
        fe("origin", "must be a string"),
        fe("subject", "must be a string"),
        fe("tenant_id", "must be a string"),
        fe("correlation_id", "must be a string"),
    ];
    assert_eq!(errors, expected);
    let timestamp = field_errors(r#"{"type":"a.b","data":{},"timestamp":"2026-11-22"}"#);
    assert!(timestamp[0].1.starts_with("must be an RFC 3339 date-time"));
}

#[test]
fn labels_are_checked() {
    let long = "x".repeat(257);
    let body = json!({"type":"a.b","data":{},"origin":"a\nb","tenant_id":long,
        "correlation_id":"x".repeat(256)});
    assert_eq!(
        field_errors(&body.to_string()),
        [
            fe("origin", "must not contain control characters"),
            fe("tenant_id", "must be at most 256 characters"),
        ]
    );
}

#[test]
fn batches_report_errors_by_index() {
    let events = parse(
        r#"{"events":[{"type":"user.created","data":{}},{"type":"user.deleted","data":{}}]}"#,
    )
    .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event_type.as_str(), "user.deleted");
    assert_ne!(events[0].id, events[1].id);

    let errors = field_errors(
        r#"{"events":[{"type":"a.b","data":{}},{"type":"BAD","data":1},7],"other":true}"#,
    );
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["other", "events[1].type", "events[1].data", "events[2]"]
    );
    assert_eq!(errors[3].1, "must be an object");
}

#[test]
fn batch_shape_is_checked() {
    assert_eq!(
        field_errors(r#"{"events":{}}"#),
        [fe("events", "must be an array of events")]
    );
    assert_eq!(
        field_errors(r#"{"events":[]}"#),
        [fe("events", "must hold 1 to 100 events, not 0")]
    );
    let many = json!({"events": vec![json!({"type":"a.b","data":{}}); 101]});
    assert_eq!(
        field_errors(&many.to_string()),
        [fe("events", "must hold 1 to 100 events, not 101")]
    );
    let hundred = json!({"events": vec![json!({"type":"a.b","data":{}}); 100]});
    assert_eq!(parse(&hundred.to_string()).unwrap().len(), 100);
}

#[test]
fn duplicate_ids_in_a_batch_are_invalid() {
    let errors = field_errors(
        r#"{"events":[{"id":"e1","type":"a.b","data":{}},{"id":"e2","type":"a.b","data":{}},
            {"id":"e1","type":"a.b","data":{}}]}"#,
    );
    assert_eq!(errors, [fe("events[2].id", "duplicate id in batch")]);
}

#[test]
fn size_limits_give_too_large() {
    let limits = EventLimits {
        max_event_bytes: 200,
        max_batch: 10,
        max_body_bytes: 1_000,
    };
    let huge = vec![b'x'; 1_001];
    assert!(matches!(
        parse_with(&huge, &limits),
        Err(SubmissionError::TooLarge(m)) if m.contains("1001") && m.contains("1000")
    ));
    let small = r#"{"id":"e","type":"a.b","timestamp":"2026-11-22T10:00:00Z","data":{"k":""}}"#;
    let base = parse_with(small.as_bytes(), &limits).unwrap()[0]
        .to_body()
        .len();
    let fill = |n: usize| json!({"id":"e","type":"a.b","data":{"k":"x".repeat(n)}});
    let exact = fill(200 - base);
    assert_eq!(
        parse_with(exact.to_string().as_bytes(), &limits).unwrap()[0]
            .to_body()
            .len(),
        200
    );
    let single = fill(201 - base).to_string();
    assert_eq!(
        parse_with(single.as_bytes(), &limits),
        Err(SubmissionError::TooLarge(
            "the event is 201 bytes once normalized; the limit is 200 bytes per event".into()
        ))
    );
    let batch = json!({"events": [json!({"type":"a.b","data":{}}), fill(300)]}).to_string();
    assert!(matches!(
        parse_with(batch.as_bytes(), &limits),
        Err(SubmissionError::TooLarge(m)) if m.starts_with("events[1] is ")
    ));
}

#[test]
fn malformed_bodies() {
    let malformed = |body: &[u8]| match parse_with(body, &EventLimits::default()) {
        Err(SubmissionError::Malformed(m)) => m,
        other => panic!("expected Malformed, got {other:?}"),
    };
    assert!(malformed(b"{\"type\":\"a.b\",\"data\":{\"x\":\"\xff\"}}").contains("UTF-8"));
    let json = malformed(b"{\"type\": }");
    assert!(json.contains("line 1 column"), "{json}");
    assert!(malformed(b"").contains("JSON"));
    for not_object in [&b"[]"[..], b"\"x\"", b"3", b"null"] {
        assert!(malformed(not_object).contains("JSON object"));
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(malformed(deep.as_bytes()).contains("recursion"));
}

#[test]
fn invalid_display_lists_every_field() {
    let err = parse(r#"{"events":[{"data":{}}]}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid event: events[0].type: is required"
    );
}

#[test]
fn body_matches_serde_and_round_trips() {
    let events = parse(
        r#"{"id":"evt_1","type":"user.created","timestamp":"2026-11-22T10:00:00.123456+01:00",
            "data":{"b":[1,2.5,null,"\u2028"],"a":{"z":true}},"subject":"u\"1"}"#,
    )
    .unwrap();
    let event = &events[0];
    assert_eq!(event.to_body(), serde_json::to_vec(event).unwrap());
    assert_eq!(
        &serde_json::from_slice::<Event>(&event.to_body()).unwrap(),
        event
    );
    assert_eq!(
        &parse_with(&event.to_body(), &EventLimits::default()).unwrap()[0],
        event
    );
}

fn label() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[^\\p{Cc}]{1,20}")
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        ".*".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{0,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_with(&body, &EventLimits::default());
    }

    #[test]
    fn valid_events_round_trip(
        type_index in 0..KNOWN_EVENT_TYPES.len(),
        id in proptest::option::of("[A-Za-z0-9_.:-]{1,40}"),
        seconds in 0i64..4_000_000_000,
        nanos in 0u32..1_000_000_000,
        offset_minutes in -1439i32..1440,
        data in proptest::collection::btree_map(".{0,8}", json_value(), 0..5),
        labels in (label(), label(), label(), label()),
    ) {
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let time = offset.timestamp_opt(seconds, nanos).unwrap();
        let mut submission = json!({
            "type": KNOWN_EVENT_TYPES[type_index],
            "timestamp": time.to_rfc3339(),
            "data": Value::Object(data.into_iter().collect()),
        });
        let (origin, subject, tenant_id, correlation_id) = labels;
        for (key, value) in [("id", id), ("origin", origin), ("subject", subject),
                             ("tenant_id", tenant_id), ("correlation_id", correlation_id)] {
            if let Some(value) = value {
                submission[key] = Value::from(value);
            }
        }
        let events = parse(&submission.to_string()).unwrap();
        let event = &events[0];
        prop_assert_eq!(event.timestamp, time.with_timezone(&Utc));
        let body = event.to_body();
        prop_assert_eq!(&body, &serde_json::to_vec(event).unwrap());
        prop_assert_eq!(&serde_json::from_slice::<Event>(&body).unwrap(), event);
        prop_assert_eq!(&parse_with(&body, &EventLimits::default()).unwrap()[0], event);
    }
}
