//! Local mode for the integration tests: the whole system over memory in this process, with
//! real HTTP in and out, and the two clients a test plays: an operator on the admin API
//! (bearer token) and a producer posting signed events.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use authhooks::domain::signature::{signature_header, Secret};
use authhooks::local::{LocalConfig, LocalMode, ServerLimits};

pub struct LocalServer {
    pub running: LocalMode,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    admin_token: String,
    ingest_secret: String,
    /// Each ingest request its own `webhook-id`.
    requests: AtomicU64,
}

impl LocalServer {
    /// On a free loopback port, with `workers` consumers per queue.
    pub async fn start(admin_token: &str, ingest_secret: &str, workers: usize) -> Self {
        let running = LocalMode::start(LocalConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            admin_token: admin_token.into(),
            ingest_secret: Secret::parse(ingest_secret).unwrap(),
            aws_endpoint: None,
            priority_types: Default::default(),
            workers,
            limits: ServerLimits::default(),
        })
        .await
        .unwrap();
        let base = format!("http://{}", running.addr);
        Self {
            running,
            base,
            admin_token: admin_token.into(),
            ingest_secret: ingest_secret.into(),
            requests: AtomicU64::new(0),
        }
    }

    /// The same server, called with another admin token (one to be refused).
    pub fn with_admin_token(self, admin_token: &str) -> Self {
        Self {
            admin_token: admin_token.into(),
            ..self
        }
    }

    /// An admin call with the bearer token: the status and the JSON answer (null if none).
    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut headers = vec![("authorization", format!("Bearer {}", self.admin_token))];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        send(method, &format!("{}{path}", self.base), body, &headers).await
    }

    /// Creates an endpoint from `spec`, asserting 201; the created endpoint and its secret.
    pub async fn create_endpoint(&self, spec: &Value) -> Value {
        let (status, created) = self.admin("POST", "/v1/endpoints", Some(spec)).await;
        assert_eq!(status, 201, "creating {spec}: {created}");
        created
    }

    /// POSTs `body` to ingest signed with the ingest secret: the status, the answer and the
    /// `webhook-signature` sent.
    pub async fn ingest(&self, body: &[u8]) -> (u16, Value, String) {
        self.ingest_with_headers(body, &[]).await
    }

    /// A signed ingest with `extra` headers (a producer's `traceparent`); the answer and the
    /// `webhook-signature` sent.
    pub async fn ingest_with_headers(
        &self,
        body: &[u8],
        extra: &[(&str, String)],
    ) -> (u16, Value, String) {
        let secret = self.ingest_secret.clone();
        self.ingest_signed_with(&secret, body, extra).await
    }

    /// Signed with `secret` (the ingest secret, or another to be refused).
    pub async fn ingest_signed_with(
        &self,
        secret: &str,
        body: &[u8],
        extra: &[(&str, String)],
    ) -> (u16, Value, String) {
        let msg_id = format!("msg_{}", self.requests.fetch_add(1, Ordering::Relaxed));
        let now = chrono::Utc::now().timestamp();
        let signature = signature_header([&Secret::parse(secret).unwrap()], &msg_id, now, body);
        let mut headers = vec![
            ("content-type", "application/json".into()),
            ("webhook-id", msg_id),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", signature.clone()),
        ];
        headers.extend(extra.iter().cloned());
        let url = format!("{}/v1/events", self.base);
        let (status, answer) = send("POST", &url, body.to_vec(), &headers).await;
        (status, answer, signature)
    }
}

async fn send(method: &str, url: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, url).body(body);
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
