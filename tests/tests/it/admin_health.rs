//! `GET /v1/endpoints/{id}/health` through the admin router: the circuit as it stands (and
//! since when it is open), failures in a row, the newest delivery given up on and the last
//! recover; an unknown id is a problem+json 404.

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks_tests::sender::status;

use crate::contract::System;

async fn health(sys: &System, id: &str) -> Value {
    let (code, body) = sys
        .admin("GET", &format!("/v1/endpoints/{id}/health"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id);
    body
}

async fn fail_once(sys: &System, event_id: &str) {
    let event = json!({"id": event_id, "type": "user.created", "data": {}});
    let (code, body) = sys.post_event(&event, None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    sys.run_until_idle().await;
}

#[tokio::test]
async fn health_follows_failures_the_circuit_and_a_recover() {
    let sys = System::new(IngestSettings::default());
    let url = "https://hooks.example.com/down";
    sys.sender.script(url, Box::new(|_| status(503)));
    let spec = json!({
        "url": url, "event_types": ["*"], "ordering": "none",
        "retry": {"initial_delay_ms": 100, "backoff_multiplier": 1, "max_delay_ms": 100, "max_retries": 0},
        "circuit": {"failure_threshold": 2, "success_threshold": 1, "open_timeout_secs": 60,
                    "half_open_max_requests": 1}
    });
    let (id, _) = sys.add_endpoint(spec).await;

    let fresh = health(&sys, &id).await;
    assert_eq!(fresh["enabled"], true);
    assert_eq!(fresh["circuit"], "closed");
    assert_eq!(fresh["consecutive_failures"], 0);
    assert_eq!(fresh["open_since"], Value::Null);
    assert_eq!(fresh["last_failure"], Value::Null);

    fail_once(&sys, "evt_down_1").await;
    let once = health(&sys, &id).await;
    assert_eq!(once["circuit"], "closed", "{once}");
    assert_eq!(once["consecutive_failures"], 1, "{once}");
    assert_eq!(once["last_failure"]["event_id"], "evt_down_1", "{once}");
    assert_eq!(once["last_failure"]["last_status"], 503, "{once}");

    // A minute later, so the newest failure is the second.
    sys.clock.advance(std::time::Duration::from_secs(60));
    fail_once(&sys, "evt_down_2").await;
    let open = health(&sys, &id).await;
    assert_eq!(open["circuit"], "open", "{open}");
    assert!(open["open_since"].is_string(), "{open}");
    assert_eq!(
        open["last_failure"]["event_id"], "evt_down_2",
        "the newest: {open}"
    );

    let (code, body) = sys
        .admin("POST", &format!("/v1/endpoints/{id}/recover"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let back = health(&sys, &id).await;
    assert_eq!(back["circuit"], "closed", "{back}");
    assert_eq!(back["recovered_at"], json!(sys.now()), "{back}");

    let (code, problem) = sys.admin("GET", "/v1/endpoints/ep_nope/health", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["status"], 404);
}

#[tokio::test]
async fn a_page_of_health_follows_the_endpoints_list_page_for_page() {
    let sys = System::new(IngestSettings::default());
    for n in 0..3 {
        let spec = json!({"url": format!("https://hooks.example.com/{n}"), "event_types": ["*"],
                          "rate_limit": {"requests_per_second": 5, "burst_size": 10}});
        sys.add_endpoint(spec).await;
    }
    let mut listed = Vec::new();
    let mut healthy = Vec::new();
    let mut cursor = String::new();
    loop {
        let (code, endpoints) = sys
            .admin("GET", &format!("/v1/endpoints?limit=2{cursor}"), None)
            .await;
        assert_eq!(code, StatusCode::OK, "{endpoints}");
        let (code, health) = sys
            .admin("GET", &format!("/v1/endpoint-health?limit=2{cursor}"), None)
            .await;
        assert_eq!(code, StatusCode::OK, "{health}");
        assert_eq!(health["next_cursor"], endpoints["next_cursor"]);
        for e in endpoints["items"].as_array().unwrap() {
            listed.push((e["id"].clone(), e["url"].clone()));
        }
        for h in health["items"].as_array().unwrap() {
            assert_eq!(h["circuit"], "closed", "{h}");
            assert_eq!(h["rate_limit"]["requests_per_second"], 5.0, "{h}");
            healthy.push((h["id"].clone(), h["url"].clone()));
        }
        match endpoints["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(listed.len(), 3);
    assert_eq!(healthy, listed, "the same endpoints, in the same order");
    let (code, problem) = sys.admin("GET", "/v1/endpoint-health?limit=0", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{problem}");
}
