//! `authhooks listen` as a process: it subscribes itself through the admin API, checks each
//! delivery's signature with the secret it was given, answers 200 or 401 (or the forward
//! target's status), and removes its endpoint on SIGINT, exiting 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authhooks::domain::signature::{sign, Secret};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use serde_json::{json, Value};

use crate::common::{authhooks, serve};

use crate::common::admin::{admin, INGEST_SECRET, TOKEN};

/// A secret the listener's endpoint does not have.
const WRONG_SECRET: &str = "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur";

/// Sends an event through the real ingest API, signed with the ingest secret.
async fn send_event(base: &str, body: &str) {
    let ts = chrono::Utc::now().timestamp();
    let msg_id = format!("msg_{}", body.len());
    let signature = sign(
        &Secret::parse(INGEST_SECRET).unwrap(),
        &msg_id,
        ts,
        body.as_bytes(),
    );
    let status = reqwest::Client::new()
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::ACCEPTED);
}

async fn endpoint_status(base: &str, id: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/v1/endpoints/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .status()
}

/// The running listener and its stdout, line by line.
struct Listener {
    /// Taken by [`Listener::interrupt`]; killed on drop if a failed assertion left it running.
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
}

impl Listener {
    fn start(admin_url: &str, extra: &[&str]) -> Self {
        let args = [
            &[
                "--url",
                admin_url,
                "--admin-token",
                TOKEN,
                "listen",
                "--json",
            ][..],
            extra,
        ]
        .concat();
        let mut child = authhooks(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let _ = tx.send(line.unwrap());
            }
        });
        Self {
            child: Some(child),
            lines,
        }
    }

    fn next_json(&self) -> Value {
        let line = self.lines.recv_timeout(Duration::from_secs(20)).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// SIGINT, as Ctrl-C sends it; the exit code.
    async fn interrupt(mut self) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        tokio::task::spawn_blocking(move || child.wait().unwrap().code())
            .await
            .unwrap()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn deliver(url: &str, body: &str, secret: &str, attempt: &str) -> StatusCode {
    let ts = chrono::Utc::now().timestamp();
    let signature = sign(
        &Secret::parse(secret).unwrap(),
        "evt_1",
        ts,
        body.as_bytes(),
    );
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", "evt_1")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .header("webhook-attempt", attempt)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_are_verified_printed_and_the_endpoint_removed_on_ctrl_c() {
    let (admin_url, _running) = admin().await;
    let listener = Listener::start(&admin_url, &["--events", "user.*,session.revoked"]);
    let hello = listener.next_json();
    let endpoint_id = hello["endpoint_id"].as_str().unwrap().to_owned();
    let own_url = hello["url"].as_str().unwrap().to_owned();
    assert!(own_url.starts_with("http://127.0.0.1:"), "{own_url}");
    let created = reqwest::Client::new()
        .get(format!("{admin_url}/v1/endpoints/{endpoint_id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let created: Value = serde_json::from_slice(&created).unwrap();
    assert_eq!(created["url"], own_url.as_str());
    assert_eq!(created["event_types"], json!(["user.*", "session.revoked"]));

    let body = r#"{"id":"evt_1","type":"user.created","data":{"user":{"id":"u_1"}}}"#;
    send_event(&admin_url, body).await;
    let seen = listener.next_json();
    assert_eq!(
        (
            &seen["webhook_id"],
            &seen["type"],
            &seen["attempt"],
            &seen["valid"]
        ),
        (
            &json!("evt_1"),
            &json!("user.created"),
            &json!(1),
            &json!(true)
        )
    );
    assert_eq!(seen["body"]["data"]["user"]["id"], "u_1");

    assert_eq!(
        deliver(&own_url, body, WRONG_SECRET, "2").await,
        StatusCode::UNAUTHORIZED
    );
    let seen = listener.next_json();
    assert_eq!(seen["valid"], false);
    assert_eq!(
        seen["reason"],
        "no v1 entry in webhook-signature matches a signing secret"
    );

    assert_eq!(
        endpoint_status(&admin_url, &endpoint_id).await,
        StatusCode::OK
    );
    assert_eq!(listener.interrupt().await, Some(0));
    assert_eq!(
        endpoint_status(&admin_url, &endpoint_id).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_deliveries_are_forwarded_and_answered_with_the_targets_status() {
    let (admin_url, _running) = admin().await;
    let forwarded: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let sink = {
        let forwarded = forwarded.clone();
        Router::new().fallback(move |headers: HeaderMap, body: Bytes| async move {
            forwarded.lock().unwrap().push((headers, body));
            StatusCode::SERVICE_UNAVAILABLE
        })
    };
    let sink_url = serve(sink).await;
    let listener = Listener::start(&admin_url, &["--forward-to", &format!("{sink_url}/hooks")]);
    let hello = listener.next_json();
    let own_url = hello["url"].as_str().unwrap().to_owned();

    // An invalid delivery stops at the listener.
    let body = r#"{"id":"evt_9","type":"session.revoked","data":{}}"#;
    assert_eq!(
        deliver(&own_url, body, WRONG_SECRET, "4").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(listener.next_json()["valid"], false);
    assert!(forwarded.lock().unwrap().is_empty());

    // A real delivery is forwarded; the sink's 503 goes back to authhooks as the answer.
    let body = r#"{"id":"evt_2","type":"session.revoked","data":{"session":{"id":"s_1"}}}"#;
    send_event(&admin_url, body).await;
    let seen = listener.next_json();
    assert_eq!(
        (&seen["valid"], &seen["webhook_id"]),
        (&json!(true), &json!("evt_2"))
    );
    assert_eq!(listener.interrupt().await, Some(0));

    let forwarded = forwarded.lock().unwrap();
    assert_eq!(forwarded.len(), 1);
    let (headers, received) = &forwarded[0];
    let event: Value = serde_json::from_slice(received).unwrap();
    assert_eq!(event["id"], "evt_2");
    assert_eq!(headers["webhook-id"], "evt_2");
    assert_eq!(headers["webhook-attempt"], "1");
    assert!(headers["webhook-signature"]
        .to_str()
        .unwrap()
        .starts_with("v1,"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_subscribes_with_a_compatibility_scheme_and_verifies_under_it() {
    let (admin_url, _running) = admin().await;
    let listener = Listener::start(
        &admin_url,
        &[
            "--signing",
            "hmac-iso-timestamped",
            "--signature-header",
            "x-authon-signature",
            "--timestamp-header",
            "x-authon-timestamp",
        ],
    );
    let hello = listener.next_json();
    let endpoint_id = hello["endpoint_id"].as_str().unwrap().to_owned();
    let view = reqwest::Client::new()
        .get(format!("{admin_url}/v1/endpoints/{endpoint_id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let view: Value = serde_json::from_slice(&view).unwrap();
    assert_eq!(
        view["signing"],
        json!({"scheme": "hmac-iso-timestamped", "signature_header": "x-authon-signature",
               "timestamp_header": "x-authon-timestamp"})
    );

    let body = r#"{"id":"evt_c","type":"user.created","data":{"user":{"id":"u_1"}}}"#;
    send_event(&admin_url, body).await;
    let seen = listener.next_json();
    assert_eq!(
        (&seen["valid"], &seen["webhook_id"]),
        (&json!(true), &json!("evt_c"))
    );
    // A Standard Webhooks delivery is not what this endpoint signs: refused, and said why.
    let own_url = hello["url"].as_str().unwrap().to_owned();
    assert_eq!(
        deliver(&own_url, body, WRONG_SECRET, "2").await,
        StatusCode::UNAUTHORIZED
    );
    let seen = listener.next_json();
    assert_eq!(seen["valid"], false);
    assert_eq!(seen["reason"], "missing header x-authon-signature");
    assert_eq!(listener.interrupt().await, Some(0));
}
