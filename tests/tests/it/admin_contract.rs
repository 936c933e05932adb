//! docs/architecture.md §3.2–3.4 through the admin router: a rotated-out secret keeps
//! signing for the 24 h grace and not after, `POST /v1/endpoints/{id}/test` reaches that
//! endpoint alone, the list routes page with `limit`, `cursor` and `next_cursor`, and
//! `ordering` defaults to `"subject"`, changes both ways, and refuses anything else.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

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

/// A PATCH with `body`; its status, content type and JSON answer.
async fn patch_raw(sys: &System, id: &str, body: &Value) -> (StatusCode, String, Value) {
    let request = Request::patch(format!("/v1/endpoints/{id}"))
        .header(
            "authorization",
            format!("Bearer {}", crate::contract::ADMIN_TOKEN),
        )
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = sys.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap(),
    )
}

#[tokio::test]
async fn ordering_defaults_to_subject_changes_both_ways_and_refuses_other_values() {
    let sys = System::new(IngestSettings::default());
    let url = "https://hooks.example.com/in";
    let (code, created) = sys
        .admin(
            "POST",
            "/v1/endpoints",
            Some(json!({"url": url, "event_types": ["*"]})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["ordering"], "subject",
        "the default for new endpoints"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let (code, opted_out) = sys
        .admin(
            "POST",
            "/v1/endpoints",
            Some(json!({"url": url, "event_types": ["*"], "ordering": "none"})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{opted_out}");
    assert_eq!(opted_out["ordering"], "none");

    // Every view shows it: read and list.
    let (_, read) = sys.admin("GET", &format!("/v1/endpoints/{id}"), None).await;
    assert_eq!(read["ordering"], "subject", "{read}");
    let (_, listed) = sys.admin("GET", "/v1/endpoints", None).await;
    let mut shown: Vec<(&str, &str)> = (listed["items"].as_array().unwrap().iter())
        .map(|i| (i["id"].as_str().unwrap(), i["ordering"].as_str().unwrap()))
        .collect();
    shown.sort_unstable();
    let mut expected = vec![
        (id.as_str(), "subject"),
        (opted_out["id"].as_str().unwrap(), "none"),
    ];
    expected.sort_unstable();
    assert_eq!(shown, expected, "{listed}");

    // Off, kept by a patch that does not name it, and back on.
    let path = format!("/v1/endpoints/{id}");
    for (body, ordering) in [
        (json!({"ordering": "none"}), "none"),
        (json!({"description": "CMS"}), "none"),
        (json!({"ordering": "subject"}), "subject"),
        (json!({"timeout_ms": 5000}), "subject"),
    ] {
        let (code, view) = sys.admin("PATCH", &path, Some(body.clone())).await;
        assert_eq!(code, StatusCode::OK, "{body}: {view}");
        assert_eq!(view["ordering"], ordering, "after {body}");
        let (_, read) = sys.admin("GET", &path, None).await;
        assert_eq!(read["ordering"], ordering, "stored after {body}");
    }

    // Anything else is a 422 problem naming the field and the allowed values, on create and
    // on patch, and changes nothing.
    let (_, before) = sys.admin("GET", &path, None).await;
    for value in [
        json!("fifo"),
        json!("NONE"),
        Value::Null,
        json!(0),
        json!(["subject"]),
    ] {
        let (code, content_type, problem) = patch_raw(
            &sys,
            &id,
            &json!({"ordering": value, "description": "changed"}),
        )
        .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{value}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{value}");
        assert_eq!(problem["status"], 422, "{problem}");
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{problem}");
        assert_eq!(errors[0]["field"], "ordering", "{problem}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("must be \"subject\" or \"none\""),
            "{message}"
        );

        let body = json!({"url": url, "event_types": ["*"], "ordering": value});
        let (code, problem) = sys.admin("POST", "/v1/endpoints", Some(body)).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{value}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "ordering", "{problem}");
    }
    let (_, after) = sys.admin("GET", &path, None).await;
    assert_eq!(after, before, "a refused patch changed the endpoint");
    let (_, listed) = sys.admin("GET", "/v1/endpoints", None).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "a refused create stored an endpoint"
    );
}
