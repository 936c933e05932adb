//! The delivery log through the admin router: each attempt the worker makes is found by
//! `GET /v1/deliveries` with its outcome (a success, a retry, a give-up with its response
//! snippet), by every filter, page by page; the overview counts them; bad parameters are
//! problem+json naming the field.

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks::domain::outcome::AttemptResult;
use authhooks_tests::json::problem_fields;
use authhooks_tests::sender::status;

use crate::contract::System;

async fn search(sys: &System, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("/v1/deliveries?{query}");
    loop {
        let (code, body) = sys.admin("GET", &path, None).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        all.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/deliveries?{query}&cursor={cursor}"),
            None => return all,
        }
    }
}

fn summary(entries: &[Value]) -> Vec<(String, u64, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["endpoint_id"].as_str().unwrap().to_owned(),
                e["attempt"].as_u64().unwrap(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_attempt_is_logged_found_by_its_filters_and_counted() {
    let sys = System::new(IngestSettings::default());
    let good = "https://hooks.example.com/good";
    let down = "https://hooks.example.com/down";
    sys.sender.script(good, Box::new(|_| status(200)));
    sys.sender.script(
        down,
        Box::new(|_| AttemptResult::Response {
            status: 503,
            retry_after: None,
            snippet: Some("database is down".into()),
        }),
    );
    let retry_once = json!({"initial_delay_ms": 100, "backoff_multiplier": 1,
                            "max_delay_ms": 100, "max_retries": 1});
    let (ok_id, _) = sys
        .add_endpoint(json!({"url": good, "event_types": ["*"], "ordering": "none"}))
        .await;
    let (down_id, _) = sys
        .add_endpoint(
            json!({"url": down, "event_types": ["*"], "ordering": "none",
                             "retry": retry_once}),
        )
        .await;
    let event = json!({"id": "evt_log_1", "type": "user.updated", "subject": "user_7",
                       "data": {"name": "Ada"}});
    let (code, body) = sys.post_event(&event, None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    sys.run_until_idle().await;

    let all = search(&sys, "limit=1").await;
    assert_eq!(all.len(), 3, "{all:#?}");
    let mut got = summary(&all);
    got.sort();
    let mut want = vec![
        (ok_id.clone(), 1, "delivered".to_owned()),
        (down_id.clone(), 1, "retrying".to_owned()),
        (down_id.clone(), 2, "failed".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);
    for entry in &all {
        assert_eq!(entry["event_id"], "evt_log_1");
        assert_eq!(entry["event_type"], "user.updated");
        assert_eq!(entry["subject"], "user_7");
    }

    let failed = search(&sys, "status=failed").await;
    assert_eq!(
        summary(&failed),
        vec![(down_id.clone(), 2, "failed".into())]
    );
    assert_eq!(failed[0]["http_status"], 503);
    assert_eq!(failed[0]["snippet"], "database is down");
    let delivered = search(&sys, &format!("endpoint_id={ok_id}")).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["http_status"], 200);
    assert!(
        delivered[0].get("snippet").is_none(),
        "no snippet kept for a success"
    );
    let delivery = failed[0]["delivery_id"].as_str().unwrap();
    let timeline = search(&sys, &format!("delivery_id={delivery}")).await;
    assert_eq!(
        summary(&timeline),
        vec![
            (down_id.clone(), 2, "failed".into()),
            (down_id.clone(), 1, "retrying".into())
        ],
        "newest first"
    );
    assert_eq!(
        search(&sys, "subject=user_7&event_type=user.updated")
            .await
            .len(),
        3
    );
    assert!(search(&sys, "subject=user_8").await.is_empty());
    assert!(search(&sys, "event_type=user.deleted").await.is_empty());
    let later = (sys.now() + chrono::Duration::seconds(1)).to_rfc3339();
    let later = later.replace('+', "%2B");
    assert!(search(&sys, &format!("since={later}")).await.is_empty());
    assert_eq!(search(&sys, &format!("until={later}")).await.len(), 3);

    let (code, overview) = sys.admin("GET", "/v1/deliveries/overview", None).await;
    assert_eq!(code, StatusCode::OK, "{overview}");
    for window in ["last_hour", "last_day"] {
        let s = &overview[window];
        assert_eq!(
            (
                &s["attempts"],
                &s["delivered"],
                &s["retrying"],
                &s["failed"]
            ),
            (&json!(3), &json!(1), &json!(1), &json!(1)),
            "{overview}"
        );
    }

    // Field values are validated as the failures filter's are (422); a page size that is not
    // one is a malformed request (400), as on every list.
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    for (query, field, want) in [
        ("status=lost", "status", invalid),
        ("endpoint_id=a%20b", "endpoint_id", invalid),
        ("event_type=User", "event_type", invalid),
        ("since=yesterday", "since", invalid),
        ("colour=red", "colour", invalid),
        ("limit=0", "limit", StatusCode::BAD_REQUEST),
    ] {
        let (code, problem) = sys
            .admin("GET", &format!("/v1/deliveries?{query}"), None)
            .await;
        assert_eq!(code, want, "{query}: {problem}");
        assert_eq!(problem_fields(&problem), vec![field], "{query}: {problem}");
    }
}
