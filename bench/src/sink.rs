//! A minimal receiver on loopback: answers each webhook at once and records when each
//! (endpoint, webhook-id) first arrived, so latency and loss can be computed afterwards,
//! and counts receipts that arrive out of acceptance order for their subject (what an
//! ordered endpoint must never see).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authhooks::domain::signature::HEADER_WEBHOOK_ID;
use axum::body::Bytes;
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
    /// The highest `sequence` received per (endpoint, subject).
    latest: HashMap<(u32, String), u64>,
}

pub struct Sink {
    pub addr: SocketAddr,
    seen: Mutex<Seen>,
    received: AtomicU64,
    requests: AtomicU64,
    inversions: AtomicU64,
    mode: FirstAttempt,
    /// How long each answer takes: a receiver's own work, which an ordered line waits for.
    delay: Duration,
    pub progress: Notify,
}

impl Sink {
    /// Binds 127.0.0.1 on a free port and serves until the process ends.
    pub async fn start(mode: FirstAttempt) -> anyhow::Result<Arc<Sink>> {
        Self::answering_after(mode, Duration::ZERO).await
    }

    /// A sink that answers each request `delay` after it arrived.
    pub async fn answering_after(mode: FirstAttempt, delay: Duration) -> anyhow::Result<Arc<Sink>> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sink = Arc::new(Sink {
            addr: listener.local_addr()?,
            seen: Mutex::new(Seen::default()),
            received: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            inversions: AtomicU64::new(0),
            mode,
            delay,
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

    /// Distinct (endpoint, event) pairs answered 200 (each event of a batch counts).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Every request, duplicates and failed first attempts included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// First receipts whose `sequence` was lower than one already received for their
    /// endpoint and subject: delivered out of the order ingest accepted them.
    pub fn inversions(&self) -> u64 {
        self.inversions.load(Ordering::Relaxed)
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
    body: Bytes,
) -> StatusCode {
    if !sink.delay.is_zero() {
        tokio::time::sleep(sink.delay).await;
    }
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
    // A batch (docs/architecture.md §3.15) is a receipt of each of its events.
    let events = match batch_of(&body) {
        Some(events) => events,
        None => vec![(key.1, order_of(&body))],
    };
    for (id, order) in events {
        if seen.first.insert((n, id), at).is_none() {
            sink.received.fetch_add(1, Ordering::Relaxed);
            if let Some((subject, sequence)) = order {
                let latest = seen.latest.entry((n, subject)).or_insert(0);
                if sequence < *latest {
                    sink.inversions.fetch_add(1, Ordering::Relaxed);
                } else {
                    *latest = sequence;
                }
            }
        }
    }
    drop(seen);
    sink.progress.notify_waiters();
    StatusCode::OK
}

/// An event's id, and its subject and sequence when it has both.
type Receipt = (String, Option<(String, u64)>);

/// A batch's events; `None` for a lone event.
fn batch_of(body: &[u8]) -> Option<Vec<Receipt>> {
    if !body.starts_with(br#"{"events":["#) {
        return None;
    }
    let parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let events = parsed.get("events")?.as_array()?;
    Some(
        events
            .iter()
            .filter_map(|e| {
                let id = e.get("id")?.as_str()?.to_owned();
                let subject = e.get("subject").and_then(|s| s.as_str());
                let sequence = e.get("sequence").and_then(|s| s.as_u64());
                let order = subject.zip(sequence).map(|(s, n)| (s.to_owned(), n));
                Some((id, order))
            })
            .collect(),
    )
}

/// The subject and sequence of a delivered event, read without parsing the whole body: the
/// body ends with its labels and then `"sequence":N` (`Event::to_body`), after `data`.
fn order_of(body: &[u8]) -> Option<(String, u64)> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, after) = text.rsplit_once(r#""subject":""#)?;
    let subject = after.split('"').next()?.to_owned();
    let (_, after) = text.rsplit_once(r#""sequence":"#)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    Some((subject, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::{batch_of, order_of};

    #[test]
    fn a_batch_is_a_receipt_of_each_event() {
        let body = br#"{"events":[{"id":"evt_1","data":{},"subject":"u","sequence":7},{"id":"evt_2","data":{}}]}"#;
        assert_eq!(
            batch_of(body),
            Some(vec![
                ("evt_1".to_owned(), Some(("u".to_owned(), 7))),
                ("evt_2".to_owned(), None)
            ])
        );
        assert_eq!(batch_of(br#"{"id":"evt_1","data":{}}"#), None);
    }

    #[test]
    fn reads_the_subject_and_sequence_after_the_data() {
        let body = br#"{"id":"evt_1","type":"t","timestamp":"x","data":{"subject":"no"},"subject":"usr_7","tenant_id":"t","sequence":1234}"#;
        assert_eq!(order_of(body), Some(("usr_7".to_owned(), 1234)));
        assert_eq!(order_of(br#"{"id":"evt_1","data":{}}"#), None);
    }
}
