//! The corpus cases marked `local` against `authhooks dev` (LocalMode) over real HTTP on
//! 127.0.0.1: the server's own body handling and header parsing are in the path. Nothing
//! may be stored, and nothing may reach the receiver every event would be delivered to.

use std::time::Duration;

use authhooks::domain::signature::Secret;
use authhooks::local::{LocalConfig, LocalMode};
use authhooks_tests::Receiver;
use serde_json::{json, Value};

use super::case::{check, load, ADMIN_TOKEN, INGEST_SECRET};

const MIN_LOCAL_CASES: usize = 30;

async fn endpoints(client: &reqwest::Client, base: &str) -> Value {
    let response = client
        .get(format!("{base}/v1/endpoints"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let mut list: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    list["items"].take()
}

#[tokio::test]
async fn local_mode_refuses_the_local_subset_over_http() {
    let receiver = Receiver::start().await;
    let local = LocalMode::start(LocalConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        admin_token: ADMIN_TOKEN.into(),
        ingest_secret: Secret::parse(INGEST_SECRET).unwrap(),
        aws_endpoint: None,
        priority_types: Default::default(),
        workers: 1,
        limits: authhooks::local::ServerLimits::default(),
    })
    .await
    .unwrap();
    let base = format!("http://{}", local.addr);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let created = client
        .post(format!("{base}/v1/endpoints"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(json!({"url": receiver.url(), "event_types": ["*"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = serde_json::from_slice(&created.bytes().await.unwrap()).unwrap();
    let endpoint_id = created["id"].as_str().unwrap().to_owned();
    let before = endpoints(&client, &base).await;

    let cases: Vec<_> = ["ingest", "admin"]
        .into_iter()
        .flat_map(load)
        .filter(|c| c.local())
        .collect();
    let mut failures = Vec::new();
    for case in &cases {
        let body = case.body();
        let now = chrono::Utc::now().timestamp();
        let method = reqwest::Method::from_bytes(case.method().as_bytes()).unwrap();
        let mut request = client.request(method, format!("{base}{}", case.path(&endpoint_id)));
        for (name, value) in case.headers(&body, now) {
            request = request.header(name, value);
        }
        let problems = match request.body(body).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = response.bytes().await.unwrap_or_default();
                check(case, status, content_type.as_deref(), &bytes)
            }
            Err(e) => vec![format!("no answer: {e}")],
        };
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{} (local): {p}", case.file)),
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        cases.len() >= MIN_LOCAL_CASES,
        "only {} local cases",
        cases.len()
    );
    eprintln!("bad input: {} cases passed against local mode", cases.len());

    assert_eq!(endpoints(&client, &base).await, before, "endpoints changed");
    // Anything wrongly accepted would have been delivered by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.requests().len(),
        0,
        "a refused request was delivered"
    );
    assert_eq!(local.shutdown().await, 0, "deliveries were left queued");
}
