//! Talks to a running authhooks (in-process or `authhooks dev`) as a producer and an
//! operator would: signed event POSTs and admin calls, over real HTTP on loopback.

use anyhow::Context;
use authhooks::domain::signature::{sign_headers, Secret};
use serde_json::{json, Value};

#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub admin_token: String,
    pub ingest_secret: Secret,
    pub http: reqwest::Client,
}

impl Target {
    pub fn new(base: String, admin_token: String, ingest_secret: Secret) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            base,
            admin_token,
            ingest_secret,
            http,
        })
    }

    /// Creates an endpoint for every event type, with `extra` fields (retry, circuit…).
    pub async fn add_endpoint(&self, url: &str, extra: Option<Value>) -> anyhow::Result<String> {
        let spec = endpoint_spec(url, extra);
        let response = self
            .http
            .post(format!("{}/v1/endpoints", self.base))
            .bearer_auth(&self.admin_token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&spec)?)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        anyhow::ensure!(
            status.is_success(),
            "creating an endpoint: {status} {}",
            String::from_utf8_lossy(&body)
        );
        let created: authhooks::wire::CreatedEndpoint =
            serde_json::from_slice(&body).context("the created endpoint")?;
        Ok(created.endpoint.id.to_string())
    }

    /// Deletes an endpoint, so that a later run's events no longer reach it.
    pub async fn remove_endpoint(&self, id: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .delete(format!("{}/v1/endpoints/{id}", self.base))
            .bearer_auth(&self.admin_token)
            .send()
            .await?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "deleting endpoint {id}: {status}");
        Ok(())
    }

    /// POSTs `body` to ingest, signed as a producer signs; returns the status code.
    pub async fn post_events(&self, body: Vec<u8>, msg_id: &str) -> anyhow::Result<u16> {
        let timestamp = chrono::Utc::now().timestamp();
        let signed = sign_headers([&self.ingest_secret], msg_id, timestamp, &body);
        let request = self
            .http
            .post(format!("{}/v1/events", self.base))
            .header("content-type", "application/json");
        let response = signed
            .into_iter()
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            })
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        // Read the answer so the connection goes back to the pool.
        let _ = response.bytes().await;
        Ok(status)
    }
}

/// An endpoint for every event type: unordered unless `extra` sets `"ordering"` (the
/// default for new endpoints is `"subject"`, so the bench says which it measures).
pub fn endpoint_spec(url: &str, extra: Option<Value>) -> Value {
    let mut spec = json!({"url": url, "event_types": ["*"], "ordering": "none"});
    if let (Some(Value::Object(fields)), Some(spec)) = (extra, spec.as_object_mut()) {
        spec.extend(fields);
    }
    spec
}

/// Which user each event of a run is about: its `subject`, the ordering key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subjects {
    /// Every event about one user (`usr_42`): an ordered endpoint delivers them one by one.
    One,
    /// Event `i` about user `i % n`: `n` lines that an ordered endpoint runs side by side.
    Spread(usize),
}

impl Subjects {
    pub fn of(self, i: usize) -> String {
        match self {
            Self::One => "usr_42".to_owned(),
            Self::Spread(n) => format!("usr_{}", i % n.max(1)),
        }
    }
}

/// `count` events in signed-batch bodies (`{"events": [...]}`) of `per_request` each,
/// event `i` with id `{prefix}_{i}` about user `subjects.of(i)`.
pub fn batch_bodies(
    prefix: &str,
    count: usize,
    per_request: usize,
    subjects: Subjects,
) -> Vec<Vec<u8>> {
    (0..count)
        .collect::<Vec<_>>()
        .chunks(per_request.max(1))
        .map(|chunk| {
            let events: Vec<Value> = chunk
                .iter()
                .map(|i| event(&format!("{prefix}_{i}"), &subjects.of(*i)))
                .collect();
            serde_json::to_vec(&json!({ "events": events })).unwrap_or_default()
        })
        .collect()
}

/// A typical identity event (~400 bytes) with a caller-chosen id, about user `subject`.
pub fn event(id: &str, subject: &str) -> Value {
    json!({
        "id": id,
        "type": "user.updated",
        "subject": subject,
        "tenant_id": "tenant_acme",
        "data": {
            "user": {
                "id": subject,
                "email": "ada.lovelace@example.com",
                "email_verified": true,
                "name": "Ada Lovelace",
                "roles": ["admin", "editor"],
                "changes": {"name": {"from": "Ada", "to": "Ada Lovelace"}},
                "locale": "en-GB"
            }
        }
    })
}
