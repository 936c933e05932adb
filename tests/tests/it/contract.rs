//! The system the contract tests drive: the real ingest and admin routers (one router, as
//! local mode serves them) over the in-memory adapters, a worker and dlq function pumped by
//! hand, a scripted network, and a manual clock that only moves when told.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use authhooks::adapters::memory::{
    ManualClock, MemoryFailureStore, MemoryQueue, QueueSettings, SeededEntropy,
};
use authhooks::api::admin::not_found_fallback;
use authhooks::app::admin::AdminSettings;
use authhooks::app::ingest::IngestSettings;
use authhooks::app::{Recorder, Worker};
use authhooks::domain::delivery::later;
use authhooks::domain::portal::PortalKey;
use authhooks::domain::signature::{signature_header, Secret};
use authhooks::local::pump::received;
use authhooks::ports::Clock;
use authhooks::system::{MemoryBackend, Settings};
use authhooks_tests::lambda::{call, call_admin};
use authhooks_tests::ScriptedSender;

pub const ADMIN_TOKEN: &str = "contract-admin-token";

pub struct System {
    pub clock: Arc<ManualClock>,
    /// Seeded directly by the admin contract tests.
    pub failures: Arc<MemoryFailureStore>,
    pub queue: Arc<MemoryQueue>,
    pub dlq: Arc<MemoryQueue>,
    pub sender: Arc<ScriptedSender>,
    pub router: Router,
    worker: Arc<Worker>,
    recorder: Arc<Recorder>,
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

impl System {
    /// Ingest with these settings; admin with the deployment's 24 h rotation grace.
    pub fn new(ingest_settings: IngestSettings) -> Self {
        let clock = Arc::new(ManualClock::new(start_time()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let entropy = Arc::new(SeededEntropy::new(11));
        // Queues apart: the deliveries queues redrive nothing to the DLQ here.
        let queue = || {
            Arc::new(MemoryQueue::new(
                dyn_clock.clone(),
                QueueSettings::default(),
            ))
        };
        let backend = MemoryBackend::with_queues(
            queue(),
            Arc::new(MemoryQueue::fifo(
                dyn_clock.clone(),
                QueueSettings::default(),
            )),
            queue(),
            queue(),
        );
        let sender = Arc::new(ScriptedSender::new(dyn_clock.clone()));
        let system = backend
            .builder(dyn_clock, entropy, sender.clone())
            .settings(Settings {
                ingest: ingest_settings,
                admin: AdminSettings {
                    portal_key: Some(PortalKey::new([5; 32])),
                    ..AdminSettings::default()
                },
                admin_token: Some(ADMIN_TOKEN.into()),
                ..Settings::default()
            })
            .build();
        // Admin with the console and the tenant portal beside it, as local mode serves them.
        let router = not_found_fallback(
            system
                .ingest_router()
                .merge(system.admin_and_console_router()),
        );
        Self {
            clock,
            failures: backend.failures,
            queue: backend.deliveries,
            dlq: backend.dlq,
            sender,
            router,
            worker: system.worker,
            recorder: system.recorder,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// An admin call with the bearer token; `body` as JSON.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_admin(&self.router, ADMIN_TOKEN, method, path, body).await
    }

    /// Creates an endpoint through the admin API; its id and secret.
    pub async fn add_endpoint(&self, spec: Value) -> (String, String) {
        let (status, body) = self.admin("POST", "/v1/endpoints", Some(spec)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        (id, body["secret"].as_str().unwrap().to_owned())
    }

    /// POSTs an event to ingest, signed with `secret` when given, unsigned otherwise.
    pub async fn post_event(&self, body: &Value, secret: Option<&Secret>) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut request = Request::post("/v1/events").header("content-type", "application/json");
        if let Some(secret) = secret {
            let now = self.now().timestamp();
            request = request
                .header("webhook-id", "msg_contract")
                .header("webhook-timestamp", now.to_string())
                .header(
                    "webhook-signature",
                    signature_header([secret], "msg_contract", now, &bytes),
                );
        }
        call(&self.router, request.body(Body::from(bytes)).unwrap()).await
    }

    /// One round of the worker and the dlq function on what is visible now.
    pub async fn step(&self) -> bool {
        let batch = self.queue.receive(10);
        let letters = self.dlq.receive(10);
        if !batch.is_empty() {
            let report = self.worker.work(received(&batch)).await;
            for message in batch
                .iter()
                .filter(|m| !report.failed.contains(&m.message_id))
            {
                self.queue.delete(&message.receipt_handle);
            }
        }
        if !letters.is_empty() {
            let report = self.recorder.record(received(&letters)).await;
            for message in letters
                .iter()
                .filter(|m| !report.failed.contains(&m.message_id))
            {
                self.dlq.delete(&message.receipt_handle);
            }
        }
        !(batch.is_empty() && letters.is_empty())
    }

    /// Pumps until both queues are empty, jumping the clock to the next visible message;
    /// gives up past two days of simulated time.
    pub async fn run_until_idle(&self) {
        let deadline = later(self.now(), Duration::from_secs(2 * 24 * 3600));
        loop {
            if self.step().await {
                continue;
            }
            let next = [self.queue.next_visible_at(), self.dlq.next_visible_at()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= deadline => self.clock.advance_to(at),
                _ => return,
            }
        }
    }
}
