//! docs/architecture.md §3.4, every field with its value: the attempt items of
//! `GET /v1/events/{id}/attempts` for a delivery that failed (500, then a timeout) before it
//! succeeded and for two that were given up on, and the failure items of `GET /v1/failures`
//! for those two (one ending on a connection error, one on an HTTP status).

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks::domain::delivery::FailureRecord;
use authhooks::domain::ids::{DeliveryId, EndpointId, EventId};
use authhooks::domain::outcome::{AttemptResult, TransportFailure};
use authhooks_tests::sender::status;

use crate::contract::System;

const EVENT: &str = "evt_fields_1";

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> Value {
    serde_json::to_value(at).unwrap()
}

/// The attempt items the sender's own log says there were for `url`, as the API must list
/// them (the scripted network reports 3 ms for every request).
fn expected_attempts(sys: &System, endpoint: &str, url: &str) -> Vec<Value> {
    sys.sender
        .sent_to(url)
        .iter()
        .enumerate()
        .map(|(i, sent)| {
            let (status, error) = match &sent.result {
                AttemptResult::Response { status, .. } => (json!(status), Value::Null),
                AttemptResult::Transport(TransportFailure::Timeout) => {
                    (Value::Null, json!("timeout"))
                }
                AttemptResult::Transport(TransportFailure::Connect(detail)) => {
                    (Value::Null, json!(format!("connect: {detail}")))
                }
                other => panic!("unscripted result {other:?}"),
            };
            json!({"endpoint_id": endpoint, "attempt": i + 1, "status": status, "error": error,
                   "latency_ms": 3, "at": rfc3339(sent.at)})
        })
        .collect()
}

#[tokio::test]
async fn attempt_and_failure_items_carry_every_field() {
    let sys = System::new(IngestSettings::default());
    let flaky = "https://flaky.example.com/in";
    let refused = "https://refused.example.com/in";
    let erroring = "https://erroring.example.com/in";
    sys.sender.script(
        flaky,
        Box::new(|n| match n {
            1 => status(500),
            2 => AttemptResult::Transport(TransportFailure::Timeout),
            _ => status(200),
        }),
    );
    // 500 first, then refused: the last status (none) is not the first.
    sys.sender.script(
        refused,
        Box::new(|n| match n {
            1 => status(500),
            _ => AttemptResult::Transport(TransportFailure::Connect("refused".into())),
        }),
    );
    sys.sender.script(
        erroring,
        Box::new(|n| match n {
            1 => AttemptResult::Transport(TransportFailure::Connect("refused".into())),
            _ => status(503),
        }),
    );
    let retry = json!({"schedule_secs": [5, 30]});
    let mut ids = Vec::new();
    for (url, retry) in [
        (flaky, json!(null)),
        (refused, retry.clone()),
        (erroring, retry),
    ] {
        let mut spec = json!({"url": url, "event_types": ["user.*"]});
        if !retry.is_null() {
            spec["retry"] = retry;
        }
        ids.push(sys.add_endpoint(spec).await.0);
    }

    let (code, body) = sys
        .post_event(
            &json!({"id": EVENT, "type": "user.created", "data": {"user": {"id": "u_1"}}}),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    sys.run_until_idle().await;
    assert_eq!(sys.sender.sent_to(flaky).len(), 3);
    assert_eq!(sys.sender.sent_to(refused).len(), 3);
    assert_eq!(sys.sender.sent_to(erroring).len(), 3);

    // Attempts: in endpoint id order, each delivery's attempts in order.
    let mut by_id: Vec<(&String, &str)> = ids.iter().zip([flaky, refused, erroring]).collect();
    by_id.sort();
    let expected: Vec<Value> = by_id
        .iter()
        .flat_map(|(id, url)| expected_attempts(&sys, id, url))
        .collect();
    let (code, attempts) = sys
        .admin("GET", &format!("/v1/events/{EVENT}/attempts"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{attempts}");
    assert_eq!(attempts["items"], Value::Array(expected));
    let flaky_items: Vec<&Value> = attempts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["endpoint_id"] == ids[0].as_str())
        .collect();
    // Spelled out once, so the expectation above cannot drift from the contract.
    assert_eq!(flaky_items[0]["status"], 500);
    assert_eq!(flaky_items[1]["status"], Value::Null);
    assert_eq!(flaky_items[1]["error"], "timeout");
    assert_eq!(flaky_items[2]["status"], 200);
    assert_eq!(flaky_items[2]["error"], Value::Null);

    // Failures: one per delivery given up on, every field.
    for (index, last_status, last_error) in [
        (1, Value::Null, json!("connect: refused")),
        (2, json!(503), Value::Null),
    ] {
        let (id, url) = (&ids[index], [flaky, refused, erroring][index]);
        let (code, list) = sys
            .admin("GET", &format!("/v1/failures?endpoint_id={id}"), None)
            .await;
        assert_eq!(code, StatusCode::OK, "{list}");
        let sent = sys.sender.sent_to(url);
        let delivery = DeliveryId::derive(
            &EventId::parse(EVENT).unwrap(),
            &EndpointId::parse(id).unwrap(),
        );
        let item = json!({
            "id": FailureRecord::id_of(&delivery, 0),
            "event_id": EVENT,
            "endpoint_id": id,
            "event_type": "user.created",
            "reason": "exhausted",
            "attempts": 3,
            "last_status": last_status,
            "last_error": last_error,
            "first_attempt_at": rfc3339(sent[0].at),
            // The dlq function records it when the worker gives up, with no time passing.
            "failed_at": rfc3339(sent[2].at),
            "replayed_at": null,
        });
        assert_eq!(list["items"], json!([item]), "failure of {url}");
    }
}
