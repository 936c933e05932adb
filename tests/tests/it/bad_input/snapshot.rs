//! The state a refused request must leave as it was, and what differs when it does not.

use serde_json::Value;

use authhooks::ports::{list_all_endpoints, FailureStore, PageRequest};

use super::System;

/// Everything a refused request must leave as it was, the failure records whole (a replay
/// sets `replayed_at`) and every job ever enqueued (a replay enqueues the job again).
#[derive(Debug)]
pub struct Snapshot {
    endpoints: Value,
    endpoint_writes: usize,
    idempotency_writes: usize,
    failures: Value,
    enqueued: Vec<Value>,
    queued: usize,
}

impl Snapshot {
    /// What differs, part by part: failure records as `id: replayed_at` (what a replay
    /// sets), the rest cut short enough to read.
    pub fn changes(&self, after: &Snapshot) -> Vec<String> {
        let short = |v: String| v.chars().take(400).collect::<String>();
        let replays = |records: &Value| {
            let records = records.as_array().unwrap().iter();
            let summary: Vec<String> = records
                .map(|r| format!("{}: {}", r["id"], r["replayed_at"]))
                .collect();
            summary.join(", ")
        };
        let mut changed = Vec::new();
        if self.failures != after.failures {
            changed.push(format!(
                "state changed: failure records (id: replayed_at): {} -> {}",
                replays(&self.failures),
                replays(&after.failures)
            ));
        }
        let mut compare = |part: &str, before: String, now: String| {
            if before != now {
                changed.push(format!(
                    "state changed: {part}: {} -> {}",
                    short(before),
                    short(now)
                ));
            }
        };
        compare(
            "endpoints",
            self.endpoints.to_string(),
            after.endpoints.to_string(),
        );
        compare(
            "endpoint writes",
            self.endpoint_writes.to_string(),
            after.endpoint_writes.to_string(),
        );
        compare(
            "idempotency writes",
            self.idempotency_writes.to_string(),
            after.idempotency_writes.to_string(),
        );
        compare(
            "jobs enqueued",
            Value::from(self.enqueued.clone()).to_string(),
            Value::from(after.enqueued.clone()).to_string(),
        );
        compare("queued", self.queued.to_string(), after.queued.to_string());
        changed
    }
}

pub async fn snapshot(s: &System) -> Snapshot {
    let endpoints = list_all_endpoints(s.endpoints.as_ref()).await.unwrap();
    let failures = s
        .failures
        .list(&Default::default(), PageRequest::first(100))
        .await
        .unwrap();
    Snapshot {
        endpoints: serde_json::to_value(&endpoints).unwrap(),
        endpoint_writes: s.endpoints.writes(),
        idempotency_writes: s.idempotency.writes(),
        failures: serde_json::to_value(&failures.items).unwrap(),
        enqueued: s.queue.jobs(),
        queued: s.queue.inner.len(),
    }
}
