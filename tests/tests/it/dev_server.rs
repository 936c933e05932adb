//! `authhooks dev` holds under idle and trickling clients (issue #15): more idle connections
//! than its cap do not lock ingest and admin out, an idle connection — new, or kept alive
//! after an answer — is closed after the header-read timeout, and a body that never
//! finishes gets a 408 problem+json. Short limits are set through the config; the test
//! asserts what happens, never how fast (the guards only keep a regression from hanging).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use authhooks::domain::signature::{signature_header, Secret};
use authhooks::local::{LocalConfig, LocalMode, ServerLimits};

const ADMIN_TOKEN: &str = "dev-server-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CAP: usize = 8;
/// Far beyond anything the limits allow; reached only if the server holds on.
const GUARD: Duration = Duration::from_secs(60);

async fn start() -> LocalMode {
    LocalMode::start(LocalConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        admin_token: ADMIN_TOKEN.into(),
        ingest_secret: Secret::parse(INGEST_SECRET).unwrap(),
        aws_endpoint: None,
        priority_types: Default::default(),
        workers: 1,
        limits: ServerLimits {
            header_read_timeout: Duration::from_millis(300),
            request_timeout: Duration::from_secs(1),
            max_connections: CAP,
        },
    })
    .await
    .unwrap()
}

/// Reads until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut received))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_idle_connections_than_the_cap_do_not_lock_out_ingest_and_admin() {
    let running = start().await;
    let base = format!("http://{}", running.addr);
    let mut idle = Vec::new();
    for _ in 0..CAP * 4 {
        idle.push(TcpStream::connect(running.addr).await.unwrap());
    }

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(GUARD)
        .build()
        .unwrap();
    let listed = client
        .get(format!("{base}/v1/endpoints"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin did not answer behind the idle connections");
    assert_eq!(listed.status(), 200);

    let body = json!({"type": "user.created", "data": {"user": {"id": "u_1"}}}).to_string();
    let now = chrono::Utc::now().timestamp();
    let secret = Secret::parse(INGEST_SECRET).unwrap();
    let accepted = client
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_dev_server")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            signature_header([&secret], "msg_dev_server", now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("ingest did not answer behind the idle connections");
    assert_eq!(accepted.status(), 202);

    // Every idle connection was served in its turn and closed, without a byte sent.
    for stream in &mut idle {
        assert_eq!(until_closed(stream).await, "");
    }
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_closed_once_idle_and_a_stalled_body_gets_a_408() {
    let running = start().await;

    // One request, answered, then nothing: the connection is kept alive only so long.
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let request = format!(
        "GET /v1/endpoints HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answered = until_closed(&mut stream).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");

    // Headers, then a body that stops short of its length.
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let request = format!(
        "POST /v1/endpoints HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"url\":"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answered = until_closed(&mut stream).await;
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(answered.contains("application/problem+json"), "{answered}");
    let body = answered.split("\r\n\r\n").nth(1).unwrap_or_default();
    let problem: Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 408);

    // Nothing was created by the stalled request.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let listed = client
        .get(format!("http://{}/v1/endpoints", running.addr))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.bytes().await.unwrap()).unwrap();
    assert_eq!(listed["items"], json!([]));
    running.shutdown().await;
}
