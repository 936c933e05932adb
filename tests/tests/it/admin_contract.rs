//! docs/architecture.md §3.2–3.4 through the admin router: a rotated-out secret keeps
//! signing for the 24 h grace and not after, `POST /v1/endpoints/{id}/test` reaches that
//! endpoint alone, and the list routes page with `limit`, `cursor` and `next_cursor`.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks::domain::delivery::{DeliveryJob, FailureRecord};
use authhooks::domain::event::Event;
use authhooks::domain::ids::EndpointId;
use authhooks::domain::outcome::FailureReason;
use authhooks::domain::signature::{verify, Secret, SignedHeaders};
use authhooks::ports::FailureStore;
use authhooks_tests::sender::status;
use authhooks_tests::Sent;

use crate::contract::System;

fn user_created(id: &str) -> Value {
    json!({"id": id, "type": "user.created", "data": {"user": {"id": "u_1"}}})
}

/// The `v1,` entries of a delivery's signature header.
fn signatures(sent: &Sent) -> Vec<String> {
    let header = sent.header("webhook-signature").unwrap();
    header.split(' ').map(str::to_owned).collect()
}

/// Whether a receiver holding only `secret` accepts the delivery.
fn verifies(sent: &Sent, secret: &Secret) -> bool {
    let headers = SignedHeaders {
        id: sent.header("webhook-id").unwrap(),
        timestamp: sent.header("webhook-timestamp").unwrap(),
        signature: sent.header("webhook-signature").unwrap(),
    };
    verify([secret], &headers, &sent.body, sent.at.timestamp(), 300).is_ok()
}

/// Ingests one event and delivers it; the one request the endpoint got for it.
async fn deliver(sys: &System, event_id: &str, url: &str) -> Sent {
    let (status, body) = sys.post_event(&user_created(event_id), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    sys.run_until_idle().await;
    let sent: Vec<Sent> = sys
        .sender
        .sent_to(url)
        .into_iter()
        .filter(|s| s.header("webhook-id") == Some(event_id))
        .collect();
    assert_eq!(sent.len(), 1, "{event_id} was not delivered once");
    sent.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_secret_rotated_through_the_admin_api_keeps_signing_for_24_hours() {
    let sys = System::new(IngestSettings::default());
    let url = "https://hooks.example.com/in";
    sys.sender.script(url, Box::new(|_| status(200)));
    let (id, old) = sys
        .add_endpoint(json!({"url": url, "event_types": ["*"]}))
        .await;
    let old = Secret::parse(&old).unwrap();

    let (code, body) = sys
        .admin("POST", &format!("/v1/endpoints/{id}/rotate-secret"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let new = Secret::parse(body["secret"].as_str().unwrap()).unwrap();
    assert_ne!(new.expose(), old.expose(), "rotation gave the same secret");

    // Within the grace: both secrets sign, each entry verifying on its own.
    let during = deliver(&sys, "evt_rot_1", url).await;
    assert_eq!(signatures(&during).len(), 2, "{:?}", signatures(&during));
    assert!(verifies(&during, &new), "the new secret does not verify");
    assert!(
        verifies(&during, &old),
        "the old secret stopped signing in the grace period"
    );

    // Still within it a minute before the 24 h are up.
    sys.clock.advance(Duration::from_secs(24 * 3600 - 60));
    let late = deliver(&sys, "evt_rot_2", url).await;
    assert_eq!(signatures(&late).len(), 2, "the grace ended early");
    assert!(verifies(&late, &old));

    // After it: only the new secret signs.
    sys.clock.advance(Duration::from_secs(120));
    let after = deliver(&sys, "evt_rot_3", url).await;
    assert_eq!(
        signatures(&after).len(),
        1,
        "the old secret still signs after the 24 h grace: {:?}",
        signatures(&after)
    );
    assert!(verifies(&after, &new));
    assert!(!verifies(&after, &old));
}

#[tokio::test]
async fn the_test_route_sends_a_test_event_to_that_endpoint_alone() {
    let sys = System::new(IngestSettings::default());
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        let url = format!("https://{name}.example.com/in");
        sys.sender.script(&url, Box::new(|_| status(200)));
        let (id, _) = sys
            .add_endpoint(json!({"url": url, "event_types": ["*"]}))
            .await;
        ids.push(id);
    }
    let target = &ids[1];

    let (code, body) = sys
        .admin("POST", &format!("/v1/endpoints/{target}/test"), None)
        .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    let event_id = body["event_id"].as_str().expect("no event_id").to_owned();
    assert!(event_id.starts_with("evt_"), "{body}");
    sys.run_until_idle().await;

    let sent = sys.sender.sent();
    let urls: Vec<&str> = sent.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://b.example.com/in"],
        "the test event did not reach that endpoint alone"
    );
    assert_eq!(sent[0].header("webhook-id"), Some(event_id.as_str()));
    let delivered: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(delivered["type"], "authhooks.test");
    assert_eq!(delivered["data"]["endpoint_id"], target.as_str());

    // Its attempt is listed like any event's.
    let (code, attempts) = sys
        .admin("GET", &format!("/v1/events/{event_id}/attempts"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{attempts}");
    let items = attempts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{attempts}");
    assert_eq!(items[0]["endpoint_id"], target.as_str());
    assert_eq!(items[0]["status"], 200);

    let (code, _) = sys
        .admin("POST", "/v1/endpoints/ep_missing/test", None)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

/// Walks a list route with `limit=2`: each page at most two items, every id once, and
/// the last page's `next_cursor` null.
async fn walk(sys: &System, route: &str) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = format!("{route}?limit=2");
    loop {
        let (code, page) = sys.admin("GET", &path, None).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "limit=2 gave {} items", items.len());
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match &page["next_cursor"] {
            Value::Null => return (seen, pages),
            Value::String(cursor) => path = format!("{route}?limit=2&cursor={cursor}"),
            other => panic!("next_cursor is {other}"),
        }
        assert!(pages < 10, "paging does not end");
    }
}

#[tokio::test]
async fn the_list_routes_page_by_limit_and_cursor() {
    let sys = System::new(IngestSettings::default());
    let mut endpoints = BTreeSet::new();
    for i in 0..5 {
        let url = format!("https://hooks{i}.example.com/in");
        endpoints.insert(
            sys.add_endpoint(json!({"url": url, "event_types": ["*"]}))
                .await
                .0,
        );
    }
    let (seen, pages) = walk(&sys, "/v1/endpoints").await;
    assert_eq!(
        seen.len(),
        5,
        "an endpoint was listed twice or not at all: {seen:?}"
    );
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), endpoints);
    assert_eq!(pages, 3, "the last page did not say it was the last");

    let mut failures = BTreeSet::new();
    for i in 0..5 {
        let event: Event = serde_json::from_value(json!({
            "id": format!("evt_page_{i}"), "type": "user.created",
            "timestamp": "2026-11-22T09:00:00Z", "data": {}
        }))
        .unwrap();
        let endpoint = EndpointId::parse(endpoints.first().unwrap()).unwrap();
        let failed_at = sys.now() - chrono::Duration::minutes(i);
        let record = FailureRecord::new(
            DeliveryJob::new(event, endpoint),
            FailureReason::Exhausted,
            failed_at,
        );
        sys.failures.record(&record).await.unwrap();
        failures.insert(record.id);
    }
    let (seen, pages) = walk(&sys, "/v1/failures").await;
    assert_eq!(
        seen.len(),
        5,
        "a failure was listed twice or not at all: {seen:?}"
    );
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), failures);
    assert_eq!(pages, 3, "the last page did not say it was the last");
}
