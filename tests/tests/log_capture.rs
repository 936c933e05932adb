//! The logs of a full delivery, captured as the JSON lines Lambda would ship: every line of
//! a delivery names its event, delivery and endpoint, and no line carries a secret, a
//! signature or any part of the payload.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tracing_subscriber::fmt::MakeWriter;

use authhooks::domain::signature::{signature_header, Secret};
use authhooks::local::{LocalConfig, LocalMode};
use authhooks_tests::receiver::Reply;
use authhooks_tests::Receiver;

const ADMIN_TOKEN: &str = "log-capture-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SENTINEL: &str = "payload-sentinel-4f9c1e";
const EMAIL: &str = "private.person@example.com";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

async fn post(url: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delivery_logs_its_ids_and_no_secret_signature_or_payload() {
    let captured = Captured::default();
    // As the functions log on Lambda (JSON, flattened, with the current span), but with
    // authhooks' own code at its most verbose.
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_env_filter("info,authhooks=trace")
        .with_writer(captured.clone())
        .init();

    let running = LocalMode::start(LocalConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        admin_token: ADMIN_TOKEN.into(),
        ingest_secret: Secret::parse(INGEST_SECRET).unwrap(),
        aws_endpoint: None,
        workers: 2,
    })
    .await
    .unwrap();
    let base = format!("http://{}", running.addr);
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
    let (status, created) = post(
        &format!("{base}/v1/endpoints"),
        spec.to_string().into_bytes(),
        &[
            ("authorization", format!("Bearer {ADMIN_TOKEN}")),
            ("content-type", "application/json".into()),
        ],
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let endpoint_id = created["id"].as_str().unwrap().to_owned();
    let endpoint_secret = created["secret"].as_str().unwrap().to_owned();

    let event = json!({"id": "evt_logs_1", "type": "user.updated",
                       "data": {"user": {"id": "u_9", "email": EMAIL, "note": SENTINEL}}});
    let body = event.to_string().into_bytes();
    let now = chrono::Utc::now().timestamp();
    let ingest_signature = signature_header(
        [&Secret::parse(INGEST_SECRET).unwrap()],
        "msg_logs",
        now,
        &body,
    );
    let (status, answer) = post(
        &format!("{base}/v1/events"),
        body,
        &[
            ("content-type", "application/json".into()),
            ("webhook-id", "msg_logs".into()),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", ingest_signature.clone()),
        ],
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let received = receiver.wait_for(2, Duration::from_secs(20)).await;
    running.shutdown().await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();

    // Every attempt is logged with the three ids at the top level.
    let attempts: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "attempt finished")
        .collect();
    assert_eq!(attempts.len(), 2, "{text}");
    for line in &attempts {
        assert_eq!(line["event_id"], "evt_logs_1", "{line}");
        assert_eq!(line["endpoint_id"], endpoint_id.as_str(), "{line}");
        assert!(
            line["delivery_id"].as_str().unwrap().starts_with("dlv_"),
            "{line}"
        );
    }
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts[0]["outcome"], "retry");
    assert_eq!(attempts[1]["outcome"], "delivered");
    // Whatever else runs inside a delivery (the HTTP client's lines) carries them in its span.
    for line in lines.iter().filter(|l| l["span"]["name"] == "delivery") {
        for field in ["event_id", "delivery_id", "endpoint_id"] {
            assert!(line["span"][field].is_string(), "{field} missing: {line}");
        }
    }

    // Nothing secret or personal, in any line.
    let core = |secret: &str| {
        secret
            .trim_start_matches("whsec_")
            .trim_end_matches('=')
            .to_owned()
    };
    let mut forbidden = vec![
        endpoint_secret.clone(),
        core(&endpoint_secret),
        INGEST_SECRET.to_owned(),
        core(INGEST_SECRET),
        SENTINEL.to_owned(),
        EMAIL.to_owned(),
        ingest_signature.trim_start_matches("v1,").to_owned(),
    ];
    for request in &received {
        let signature = request.header("webhook-signature").unwrap();
        forbidden.extend(
            signature
                .split(' ')
                .map(|s| s.trim_start_matches("v1,").to_owned()),
        );
    }
    for needle in &forbidden {
        assert!(
            !text.contains(needle.as_str()),
            "the logs contain {needle:?}:\n{text}"
        );
    }
}
