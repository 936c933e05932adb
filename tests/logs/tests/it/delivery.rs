//! A full delivery with a retry: every line of it names its event, delivery and endpoint
//! (and the producer's trace id, in its span), and no line carries a secret, a signature, the admin token or any part of the payload.

use std::time::Duration;

use serde_json::{json, Value};

use authhooks_tests::receiver::Reply;
use authhooks_tests::Receiver;

use super::capture::{captured, secret_forms, signature_values};
use super::local::{Local, EMAIL, SENTINEL};

const ADMIN_TOKEN: &str = "log-capture-admin-token-delivery";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delivery_logs_its_ids_and_no_secret_signature_or_payload() {
    let logs = captured();
    let local = Local::start(ADMIN_TOKEN, INGEST_SECRET, 2).await;
    let receiver = Receiver::start().await;
    // The first attempt fails, so the logs cover a retry as well.
    receiver.set_reply(|n| {
        if n == 1 {
            Reply::status(503).with_body(EMAIL)
        } else {
            Reply::status(200)
        }
    });

    let spec =
        json!({"url": receiver.url(), "event_types": ["user.*"], "retry": {"schedule_secs": [1]}});
    let (status, created) = local.admin("POST", "/v1/endpoints", Some(&spec)).await;
    assert_eq!(status, 201, "{created}");
    let endpoint_id = created["id"].as_str().unwrap().to_owned();
    let endpoint_secret = created["secret"].as_str().unwrap().to_owned();

    let event = json!({"id": "evt_logs_1", "type": "user.updated",
                       "data": {"user": {"id": "u_9", "email": EMAIL, "note": SENTINEL}}});
    let traceparent = format!("00-{TRACE_ID}-00f067aa0ba902b7-01");
    let (status, answer, ingest_signature) = local
        .ingest_with_headers(
            event.to_string().as_bytes(),
            &[("traceparent", traceparent)],
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let received = receiver.wait_for(2, Duration::from_secs(20)).await;
    local.running.shutdown().await;

    let lines = logs.lines();
    // Every attempt is logged with the three ids at the top level.
    let attempts: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "attempt finished" && l["event_id"] == "evt_logs_1")
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for line in &attempts {
        assert_eq!(line["endpoint_id"], endpoint_id.as_str(), "{line}");
        assert!(
            line["delivery_id"].as_str().unwrap().starts_with("dlv_"),
            "{line}"
        );
    }
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts[0]["outcome"], "retry");
    assert_eq!(attempts[1]["outcome"], "delivered");
    // Whatever else runs inside a delivery (the HTTP client's lines) carries them in its span,
    // with the producer's trace id; so does ingest's summary. The capture is process-wide and
    // other tests deliver events of their own without a trace, so only this event's lines count.
    let in_deliver: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "deliver" && l["span"]["event_id"] == "evt_logs_1")
        .collect();
    assert!(in_deliver.len() >= attempts.len(), "{lines:#?}");
    for line in in_deliver {
        for field in ["delivery_id", "endpoint_id"] {
            assert!(line["span"][field].is_string(), "{field} missing: {line}");
        }
        assert_eq!(line["span"]["trace_id"], TRACE_ID, "{line}");
    }
    // Other tests ingest too; one summary, this request's, must carry the trace.
    let ingested: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "ingested")
        .collect();
    assert!(
        ingested.iter().any(|l| l["span"]["trace_id"] == TRACE_ID),
        "{ingested:#?}"
    );

    let mut needles = secret_forms(&endpoint_secret);
    needles.extend(secret_forms(INGEST_SECRET));
    needles.extend(signature_values(&ingest_signature));
    needles.extend([
        ADMIN_TOKEN.to_owned(),
        SENTINEL.to_owned(),
        EMAIL.to_owned(),
    ]);
    for request in &received {
        needles.extend(signature_values(
            request.header("webhook-signature").unwrap(),
        ));
    }
    logs.assert_free_of(&needles);
}
