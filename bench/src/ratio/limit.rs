//! The machine's own limit for what authhooks does per delivery: a minimal HTTP/1.1 client
//! (as `wrk`: keep-alive connections, each sending its next request as soon as the answer
//! is in) posting a signed delivery's body to the same sink, measured in requests per
//! second. Written here rather than run as `wrk` so that the limit is measured in the same
//! run, by the same command, on any machine.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authhooks::domain::signature::{sign_headers, Secret, HEADER_WEBHOOK_ID};
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::client::event;
use crate::machine::{cpu_per_unit_ms, process_cpu};
use crate::sink::Sink;

/// What the minimal client reached.
pub struct Limit {
    pub requests: u64,
    pub secs: f64,
    /// This process's CPU (client and sink together) per request.
    pub cpu_ms: Option<f64>,
}

impl Limit {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.secs
    }
}

/// A delivery as authhooks sends one: the body `Event::to_body` renders for the bench's
/// event (~400 bytes), with Standard Webhooks headers signed once.
fn request_parts() -> (Bytes, Vec<(&'static str, String)>) {
    let mut body = event("evt_limit", "usr_1");
    if let Some(fields) = body.as_object_mut() {
        fields.insert("timestamp".into(), "2026-12-02T00:00:00Z".into());
        fields.insert("sequence".into(), 1.into());
    }
    let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let secret = Secret::generate([0x11; 32]);
    let headers = sign_headers(
        [&secret],
        "msg_limit",
        chrono::Utc::now().timestamp(),
        &body,
    )
    .into_iter()
    .filter(|(name, _)| *name != HEADER_WEBHOOK_ID)
    .collect();
    (body, headers)
}

/// Measurements made in this process, so that a later round's ids are new to the sink.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Runs `connections` connections against the sink's endpoint 0 for `secs` seconds.
/// Each request carries a `webhook-id` of its own, in this round too, so the sink does for
/// each exactly what it does for one of authhooks' deliveries (records a first receipt).
pub async fn measure(sink: &Arc<Sink>, connections: usize, secs: f64) -> anyhow::Result<Limit> {
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let (body, headers) = request_parts();
    let path = "/sink/0".to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let cpu_before = process_cpu();
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..connections.max(1) {
        let stream = tokio::net::TcpStream::connect(sink.addr).await?;
        stream.set_nodelay(true)?;
        let (mut send, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let (body, headers, path, stop, sent) = (
            body.clone(),
            headers.clone(),
            path.clone(),
            stop.clone(),
            sent.clone(),
        );
        let host = sink.addr.to_string();
        clients.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut request = Request::post(path.as_str())
                    .header("host", host.as_str())
                    .header("content-type", "application/json")
                    .header(HEADER_WEBHOOK_ID, format!("msg_limit_{run}_{c}_{n}"));
                for (name, value) in &headers {
                    request = request.header(*name, value.as_str());
                }
                let request = request.body(Full::new(body.clone()))?;
                let response = send.send_request(request).await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "sink answered {}",
                    response.status()
                );
                response.into_body().collect().await?;
                n += 1;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let requests = sent.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = process_cpu();
    for client in clients {
        client.await??;
    }
    Ok(Limit {
        requests,
        secs: elapsed,
        cpu_ms: cpu_per_unit_ms(cpu_before, cpu_after, requests),
    })
}
