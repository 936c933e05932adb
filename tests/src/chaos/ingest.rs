//! Ingest's side of a chaos run: every event posted through the real router, a hundred
//! per request, with backpressure on the queue's backlog and some batches posted again,
//! and what ingest answered.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::world::ChaosWorld;
use super::{event_id, event_type, subject, Backend, ChaosConfig, ChaosError};

const BATCH: usize = 100;

/// What ingest answered: deliveries per accepted event, and the re-posts' verdicts.
#[derive(Debug, Default)]
pub struct Ingested {
    pub deliveries: usize,
    pub reposted_events: usize,
    /// Re-posted events answered `duplicate`: every delivery already under way or done.
    pub repost_duplicates: usize,
    /// Re-posted events answered with another event id or delivery count than at first.
    pub repost_mismatches: usize,
    /// The types of the re-posted events not answered `duplicate`: some of their
    /// deliveries may have been enqueued a second time.
    pub reposted_types: Vec<String>,
}

impl Ingested {
    fn note_repost(&mut self, body: &Value, first: &[Value], again: &[Value]) {
        let events = body["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        for (i, event) in events.iter().enumerate() {
            if again.get(i).is_none_or(|a| a["duplicate"] != true) {
                self.reposted_types
                    .push(event["type"].as_str().unwrap_or_default().to_owned());
            }
        }
        self.reposted_events += again.len();
        self.repost_duplicates += again.iter().filter(|e| e["duplicate"] == true).count();
        let same = |a: &Value, b: &Value| a["id"] == b["id"] && a["deliveries"] == b["deliveries"];
        self.repost_mismatches += first.len().abs_diff(again.len())
            + first.iter().zip(again).filter(|(a, b)| !same(a, b)).count();
    }
}

/// Posts every event through the ingest router, a hundred per request, waiting while the
/// queue is full; every `repost_every`-th batch is posted a second time, `repost_every`
/// batches later.
pub(super) async fn produce(
    config: &ChaosConfig,
    world: &ChaosWorld,
    started: Instant,
) -> Result<Ingested, ChaosError> {
    let router = world.builder.clone().build().ingest_router();
    let mut ingested = Ingested::default();
    let mut held: Option<(Value, Vec<Value>)> = None;
    let memory = config.backend == Backend::Memory;
    for (n, start) in (0..config.events).step_by(BATCH).enumerate() {
        while memory && world.backlog().await? > config.max_backlog {
            if started.elapsed() > config.deadline {
                return Err(ChaosError::Ingest(
                    "the deadline passed while ingesting".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let events: Vec<Value> = (start..(start + BATCH).min(config.events))
            .map(|i| {
                json!({
                    "id": event_id(config.seed, i),
                    "type": event_type(config.seed, i, config.dead_every),
                    "data": {"user": {"id": format!("u_{i}")}},
                    "origin": "better-auth",
                    "subject": subject(i, config.subjects)
                })
            })
            .collect();
        let body = json!({ "events": events });
        let answer = post(&router, &body, started, config.deadline).await?;
        ingested.deliveries += answer
            .iter()
            .filter(|e| e["duplicate"] == false)
            .filter_map(|e| e["deliveries"].as_u64())
            .sum::<u64>() as usize;
        if config.repost_every > 0 && n.is_multiple_of(config.repost_every) {
            // A producer's retry some time after its first attempt: the batch from
            // `repost_every` batches ago goes again, and this one is kept for the next.
            if let Some((body, first)) = held.take() {
                let again = post(&router, &body, started, config.deadline).await?;
                ingested.note_repost(&body, &first, &again);
            }
            held = Some((body, answer));
        }
    }
    Ok(ingested)
}

/// One ingest request; a 503 (a dependency down) is retried as a producer would.
async fn post(
    router: &axum::Router,
    body: &Value,
    started: Instant,
    deadline: Duration,
) -> Result<Vec<Value>, ChaosError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ChaosError::Ingest(e.to_string()))?;
    loop {
        let request = Request::post("/v1/events")
            .header("content-type", "application/json")
            .body(Body::from(bytes.clone()))
            .map_err(|e| ChaosError::Ingest(e.to_string()))?;
        let response = router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| ChaosError::Ingest(e.to_string()))?;
        let status = response.status().as_u16();
        let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| ChaosError::Ingest(e.to_string()))?;
        let answer: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        match status {
            200 | 202 => return Ok(answer["events"].as_array().cloned().unwrap_or_default()),
            503 | 409 if started.elapsed() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => return Err(ChaosError::Ingest(format!("{status}: {answer}"))),
        }
    }
}
