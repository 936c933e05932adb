//! A minimal receiver on loopback: answers each webhook at once and records when each
//! (endpoint, webhook-id) first arrived, so latency and loss can be computed afterwards.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use authhooks::domain::signature::HEADER_WEBHOOK_ID;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::Notify;

/// What the sink answers the first attempt of each webhook; later attempts get 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstAttempt {
    Ok,
    /// 503 once per (endpoint, webhook-id): every delivery is retried exactly once.
    FailOnce,
}

#[derive(Default)]
struct Seen {
    first: HashMap<(u32, String), Instant>,
    attempts: HashMap<(u32, String), u32>,
}

pub struct Sink {
    pub addr: SocketAddr,
    seen: Mutex<Seen>,
    received: AtomicU64,
    requests: AtomicU64,
    mode: FirstAttempt,
    pub progress: Notify,
}

impl Sink {
    /// Binds 127.0.0.1 on a free port and serves until the process ends.
    pub async fn start(mode: FirstAttempt) -> anyhow::Result<Arc<Sink>> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sink = Arc::new(Sink {
            addr: listener.local_addr()?,
            seen: Mutex::new(Seen::default()),
            received: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            mode,
            progress: Notify::new(),
        });
        let app = Router::new()
            .route("/sink/{n}", post(receive))
            .with_state(sink.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("sink stopped: {e}");
            }
        });
        Ok(sink)
    }

    pub fn url(&self, endpoint: u32) -> String {
        format!("http://{}/sink/{endpoint}", self.addr)
    }

    /// Distinct (endpoint, webhook-id) pairs answered 200.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Every request, duplicates and failed first attempts included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// When the webhook `id` first reached endpoint `n` with a 200.
    pub fn receipts(&self) -> HashMap<(u32, String), Instant> {
        self.seen
            .lock()
            .map(|seen| seen.first.clone())
            .unwrap_or_default()
    }
}

async fn receive(
    State(sink): State<Arc<Sink>>,
    Path(n): Path<u32>,
    headers: HeaderMap,
) -> StatusCode {
    let at = Instant::now();
    sink.requests.fetch_add(1, Ordering::Relaxed);
    let Some(id) = headers.get(HEADER_WEBHOOK_ID).and_then(|v| v.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    let key = (n, id.to_owned());
    let Ok(mut seen) = sink.seen.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let attempts = seen.attempts.entry(key.clone()).or_insert(0);
    *attempts += 1;
    if sink.mode == FirstAttempt::FailOnce && *attempts == 1 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if seen.first.insert(key, at).is_none() {
        sink.received.fetch_add(1, Ordering::Relaxed);
    }
    drop(seen);
    sink.progress.notify_waiters();
    StatusCode::OK
}
