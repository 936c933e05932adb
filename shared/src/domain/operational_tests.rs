#![allow(clippy::unwrap_used)]

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::domain::delivery::DeliveryJob;
use crate::domain::endpoint::UrlPolicy;
use crate::domain::endpoint_spec::parse_new;
use crate::domain::event::{parse_submission, EventLimits, SubmissionError};
use crate::domain::outcome::FailureReason;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn endpoint(spec: serde_json::Value) -> Endpoint {
    let mut body = json!({"url": "https://ops.example.com/hook", "event_types": ["*"]});
    for (k, v) in spec.as_object().unwrap() {
        body[k] = v.clone();
    }
    // Each its own id: the random part is the spec's own text.
    let seed = body.to_string();
    let mut random = || seeded_random(&seed, 0);
    parse_new(&body, &UrlPolicy::default(), at(0), &mut random, [1; 32])
        .unwrap()
        .0
}

fn open(since: i64) -> CircuitState {
    CircuitState::Open {
        opened_at: at(since),
        open_since: at(since),
    }
}

#[test]
fn only_leaving_closed_and_coming_back_are_news() {
    let ep = endpoint(json!({}));
    let closed = CircuitState::Closed { failures: 4 };
    let half_open = CircuitState::HalfOpen {
        open_since: at(10),
        since: at(70),
        admitted: 1,
        successes: 0,
    };
    assert!(matches!(
        circuit_notice(&ep, &closed, &open(10)),
        Some(Notice::CircuitOpened { .. })
    ));
    assert!(matches!(
        circuit_notice(&ep, &half_open, &CircuitState::Closed { failures: 0 }),
        Some(Notice::CircuitClosed { open_since, .. }) if open_since == at(10)
    ));
    assert!(circuit_notice(&ep, &half_open, &open(10)).is_none());
    assert!(circuit_notice(&ep, &closed, &CircuitState::Closed { failures: 5 }).is_none());
    assert!(circuit_notice(&ep, &open(10), &half_open).is_none());
}

#[test]
fn a_notice_is_an_event_about_its_endpoint_from_authhooks() {
    let ep = endpoint(json!({"tenant_id": "acme", "description": "the CMS"}));
    let event = Notice::CircuitOpened { endpoint: &ep }
        .event(at(5))
        .unwrap();
    assert_eq!(event.event_type.as_str(), CIRCUIT_OPENED);
    assert_eq!(event.origin.as_deref(), Some(ORIGIN));
    assert_eq!(event.subject.as_deref(), Some(ep.id.as_str()));
    assert_eq!(event.tenant_id.as_deref(), Some("acme"));
    assert_eq!(event.timestamp, at(5));
    let data: serde_json::Value = serde_json::from_str(event.data.as_str()).unwrap();
    assert_eq!(data["endpoint"]["id"], ep.id.as_str());
    assert_eq!(data["endpoint"]["url"], "https://ops.example.com/hook");
    assert_eq!(data["failure_threshold"], 5);
    // Made twice at the same instant, it is one event.
    let again = Notice::CircuitOpened { endpoint: &ep }
        .event(at(5))
        .unwrap();
    assert_eq!(again.id, event.id);
    assert_ne!(
        Notice::CircuitOpened { endpoint: &ep }
            .event(at(6))
            .unwrap()
            .id,
        event.id
    );
}

#[test]
fn a_delivery_given_up_on_is_reported_unless_it_was_a_notice_itself() {
    let ep = endpoint(json!({}));
    let event = parse_submission(
        br#"{"id":"evt_1","type":"user.updated","subject":"u_1","data":{}}"#,
        &EventLimits::default(),
        at(0),
        &mut || 1,
    )
    .unwrap()
    .remove(0);
    let letter = DeadLetter {
        reason: FailureReason::Exhausted,
        job: DeliveryJob::new(event, ep.id.clone()),
    };
    let reported = Notice::Exhausted { letter: &letter }.event(at(9)).unwrap();
    assert_eq!(reported.event_type.as_str(), DELIVERY_EXHAUSTED);
    let data: serde_json::Value = serde_json::from_str(reported.data.as_str()).unwrap();
    assert_eq!(
        data["event"],
        json!({"id": "evt_1", "type": "user.updated", "subject": "u_1"})
    );
    assert_eq!(data["reason"], "exhausted");
    assert_eq!(data["delivery_id"], letter.job.delivery_id.as_str());

    let notice_letter = DeadLetter {
        reason: FailureReason::Exhausted,
        job: DeliveryJob::new(reported, ep.id.clone()),
    };
    assert!(Notice::Exhausted {
        letter: &notice_letter
    }
    .event(at(10))
    .is_none());
}

#[test]
fn notices_go_to_endpoints_that_name_them_and_never_to_their_subject() {
    let everything = endpoint(json!({"event_types": ["*"]}));
    let ops = endpoint(json!({"event_types": ["authhooks.*"]}));
    let exact = endpoint(json!({"event_types": [CIRCUIT_OPENED]}));
    let about_ops = Notice::CircuitOpened { endpoint: &ops }
        .event(at(1))
        .unwrap();
    let about_other = Notice::CircuitOpened {
        endpoint: &everything,
    }
    .event(at(1))
    .unwrap();
    assert!(!everything.receives(&about_other), "* selected a notice");
    assert!(ops.receives(&about_other));
    assert!(exact.receives(&about_other));
    assert!(
        !ops.receives(&about_ops),
        "a notice went to the endpoint it is about"
    );
    assert!(exact.receives(&about_ops));
}

#[test]
fn producers_cannot_post_in_the_namespace() {
    let refused = parse_submission(
        br#"{"type":"authhooks.endpoint.disabled","data":{}}"#,
        &EventLimits::default(),
        at(0),
        &mut || 1,
    );
    let Err(SubmissionError::Invalid(errors)) = refused else {
        panic!("accepted: {refused:?}");
    };
    assert_eq!(errors[0].field, "type");
    assert!(errors[0].message.contains("authhooks' own"), "{errors:?}");
}
