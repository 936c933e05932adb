//! Local mode for the log tests: the whole system over memory, real HTTP in and out.

use std::net::{Ipv4Addr, SocketAddr};

use serde_json::Value;

use authhooks::domain::signature::{signature_header, Secret};
use authhooks::local::{LocalConfig, LocalMode};

pub const SENTINEL: &str = "payload-sentinel-4f9c1e";
pub const EMAIL: &str = "private.person@example.com";

pub struct Local {
    pub running: LocalMode,
    pub base: String,
    pub admin_token: String,
    pub ingest_secret: String,
}

impl Local {
    /// Each test its own token and ingest secret, so its needles are its own.
    pub async fn start(admin_token: &str, ingest_secret: &str) -> Local {
        let running = LocalMode::start(LocalConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            admin_token: admin_token.into(),
            ingest_secret: Secret::parse(ingest_secret).unwrap(),
            aws_endpoint: None,
            workers: 2,
            limits: authhooks::local::ServerLimits::default(),
        })
        .await
        .unwrap();
        let base = format!("http://{}", running.addr);
        Local {
            running,
            base,
            admin_token: admin_token.into(),
            ingest_secret: ingest_secret.into(),
        }
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut headers = vec![("authorization", format!("Bearer {}", self.admin_token))];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        send(method, &format!("{}{path}", self.base), body, &headers).await
    }

    /// POSTs `body` to ingest signed with `secret` (the ingest secret, or another to be
    /// refused); returns the answer and the `webhook-signature` sent.
    pub async fn ingest_signed_with(&self, secret: &str, body: &[u8]) -> (u16, Value, String) {
        self.ingest_with_headers(secret, body, &[]).await
    }

    /// A signed ingest with `extra` headers (a producer's `traceparent`).
    pub async fn ingest_with_headers(
        &self,
        secret: &str,
        body: &[u8],
        extra: &[(&str, String)],
    ) -> (u16, Value, String) {
        let now = chrono::Utc::now().timestamp();
        let signature = signature_header([&Secret::parse(secret).unwrap()], "msg_logs", now, body);
        let mut headers = vec![
            ("content-type", "application/json".into()),
            ("webhook-id", "msg_logs".into()),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", signature.clone()),
        ];
        headers.extend(extra.iter().cloned());
        let (status, answer) = send(
            "POST",
            &format!("{}/v1/events", self.base),
            body.to_vec(),
            &headers,
        )
        .await;
        (status, answer, signature)
    }

    pub async fn ingest(&self, body: &[u8]) -> (u16, Value, String) {
        let secret = self.ingest_secret.clone();
        self.ingest_signed_with(&secret, body).await
    }
}

async fn send(method: &str, url: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url).body(body);
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
