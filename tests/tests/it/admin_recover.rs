//! `POST /v1/endpoints/{id}/recover` through the admin router: it closes the circuit and
//! sends the endpoint's waiting retry at once; an unknown id is a problem+json 404.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

use authhooks::app::ingest::IngestSettings;
use authhooks_tests::sender::status;

use crate::contract::{System, ADMIN_TOKEN};

#[tokio::test]
async fn recover_sends_the_waiting_retry_now_and_answers_what_it_did() {
    let sys = System::new(IngestSettings::default());
    let url = "https://hooks.example.com/back";
    sys.sender
        .script(url, Box::new(|n| status(if n == 1 { 503 } else { 200 })));
    let (id, _) = sys
        .add_endpoint(json!({"url": url, "event_types": ["*"], "retry": {"schedule_secs": [300]}}))
        .await;
    let event = json!({"id": "evt_back", "type": "user.created", "data": {}});
    let (code, body) = sys.post_event(&event, None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    assert!(sys.step().await);
    assert_eq!(sys.sender.sent_to(url).len(), 1, "the first attempt failed");
    assert!(!sys.step().await, "the retry waits five minutes");

    let (code, body) = sys
        .admin("POST", &format!("/v1/endpoints/{id}/recover"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["circuit"], "closed");
    assert_eq!(body["brought_forward"], 1);
    assert_eq!(
        body["recovered_at"],
        json!(sys.now()),
        "the recover's own time"
    );
    // The clock has not moved: the retry goes now, not in five minutes.
    assert!(sys.step().await);
    let sent = sys.sender.sent_to(url);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].at, sys.now());
    assert_eq!(sent[1].header("webhook-attempt"), Some("2"));
}

#[tokio::test]
async fn recovering_an_unknown_endpoint_is_a_problem_404() {
    let sys = System::new(IngestSettings::default());
    let (known, _) = sys
        .add_endpoint(json!({"url": "https://hooks.example.com/x", "event_types": ["*"]}))
        .await;
    let (code, body) = sys
        .admin("POST", &format!("/v1/endpoints/{known}/recover"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "a known endpoint recovers: {body}");
    assert_eq!(body["brought_forward"], 0, "nothing was waiting");
    for id in ["ep_nope", "not-an-id"] {
        let request = Request::post(format!("/v1/endpoints/{id}/recover"))
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let response = sys.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{id}"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem["status"], 404, "{problem}");
    }
}
