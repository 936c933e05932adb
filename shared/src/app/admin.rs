//! The admin API's use cases: endpoints (create, read, update, delete, rotate, test),
//! failures (list, replay one or many) and the attempts of an event's deliveries.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::domain::delivery::{DeliveryJob, FailureRecord};
use crate::domain::endpoint::{Endpoint, UrlPolicy};
use crate::domain::endpoint_spec::{apply_patch, parse_new};
use crate::domain::event::{Event, EventType};
use crate::domain::ids::{DeliveryId, EndpointId, EventId};
use crate::domain::portal::PortalKey;
use crate::domain::recovery;
use crate::domain::signature::Secret;
use crate::domain::validation::FieldError;
use crate::ports::{
    ClaimOutcome, Clock, DeliveryLog, DeliveryQueue, EndpointStateStore, EndpointStore, Enqueue,
    Entropy, FailureFilter, FailureStore, IdempotencyKey, IdempotencyStore, Page, PageRequest,
    PortError, QueueRecall, Scripts,
};
use crate::wire::Recovered;

/// Replays per bulk request; a larger backlog is replayed by calling again.
pub const MAX_BULK_REPLAY: usize = 1000;

/// The type of the event `POST /v1/endpoints/{id}/test` sends.
pub const TEST_EVENT_TYPE: &str = "authhooks.test";

#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub policy: UrlPolicy,
    /// How long a rotated-out secret keeps signing (docs/architecture.md: 24 h).
    pub rotation_grace: Duration,
    /// What signs tenant portal links; `None`: no portal (`POST /v1/portal-links` says so).
    pub portal_key: Option<PortalKey>,
    /// Where the portal is served, when not beside the admin API (the portal function's
    /// URL on AWS): the base of the links made.
    pub portal_url: Option<String>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            policy: UrlPolicy::default(),
            rotation_grace: Duration::from_secs(24 * 3600),
            portal_key: None,
            portal_url: None,
        }
    }
}

/// The admin use cases over the ports they own.
#[derive(Clone)]
pub struct Admin {
    pub endpoints: Arc<dyn EndpointStore>,
    /// Endpoints' circuits, closed by a recover.
    pub state: Arc<dyn EndpointStateStore>,
    /// Brings a recovered endpoint's waiting jobs forward where the queue can.
    pub recall: Arc<dyn QueueRecall>,
    pub failures: Arc<dyn FailureStore>,
    /// What `GET /v1/deliveries` and the overview read.
    pub log: Arc<dyn DeliveryLog>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Checks an endpoint's transformation compiles before it is stored.
    pub scripts: Arc<dyn Scripts>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub settings: AdminSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    /// The `cursor` of a list request was not one the list handed out.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A capability this deployment was not given (the tenant portal without its key).
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    #[error(transparent)]
    Unavailable(PortError),
}

impl From<PortError> for AdminError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::InvalidCursor(reason) => Self::InvalidCursor(reason),
            other => Self::Unavailable(other),
        }
    }
}

/// One attempt of one delivery, as `GET /v1/events/{id}/attempts` lists it.
pub use crate::wire::AttemptItem;

impl Admin {
    pub async fn create_endpoint(&self, body: &Value) -> Result<(Endpoint, Secret), AdminError> {
        let (endpoint, secret) = parse_new(
            body,
            &self.settings.policy,
            self.clock.now(),
            &mut || self.entropy.u128(),
            self.entropy.bytes32(),
        )
        .map_err(AdminError::Invalid)?;
        self.check_transform(endpoint.transform.as_deref()).await?;
        self.endpoints.put(&endpoint).await?;
        Ok((endpoint, secret))
    }

    /// A transformation that does not compile, defines no handler or runs away at its top
    /// level is a 422 naming `transform`, and nothing is stored.
    async fn check_transform(&self, script: Option<&str>) -> Result<(), AdminError> {
        let Some(script) = script else {
            return Ok(());
        };
        match self.scripts.check(script).await {
            Ok(()) => Ok(()),
            Err(failure) if failure.busy => Err(AdminError::Unavailable(PortError::Unavailable(
                failure.message,
            ))),
            Err(failure) => Err(AdminError::Invalid(vec![FieldError::new(
                "transform",
                failure.message,
            )])),
        }
    }

    pub async fn get_endpoint(&self, id: &str) -> Result<Endpoint, AdminError> {
        let not_found = || AdminError::NotFound(format!("endpoint {id}"));
        let id = EndpointId::parse(id).map_err(|_| not_found())?;
        self.endpoints.get(&id).await?.ok_or_else(not_found)
    }

    pub async fn list_endpoints(&self, page: PageRequest) -> Result<Page<Endpoint>, AdminError> {
        Ok(self.endpoints.list(page).await?)
    }

    pub async fn update_endpoint(&self, id: &str, body: &Value) -> Result<Endpoint, AdminError> {
        let current = self.get_endpoint(id).await?;
        let updated = apply_patch(&current, body, &self.settings.policy, self.clock.now())
            .map_err(AdminError::Invalid)?;
        if updated.transform != current.transform {
            self.check_transform(updated.transform.as_deref()).await?;
        }
        self.endpoints.put(&updated).await?;
        Ok(updated)
    }

    pub async fn delete_endpoint(&self, id: &str) -> Result<(), AdminError> {
        let endpoint = self.get_endpoint(id).await?;
        self.endpoints.delete(&endpoint.id).await?;
        Ok(())
    }

    /// "It is back, send now": closes the endpoint's circuit, records when (so the worker
    /// cuts short every wait decided before, at each job's next look), then brings its
    /// waiting jobs forward on the queues that can (`domain::recovery`).
    pub async fn recover_endpoint(&self, id: &str) -> Result<Recovered, AdminError> {
        const ROUNDS: u32 = 16;
        let endpoint = self.get_endpoint(id).await?;
        let now = self.clock.now();
        let mut closed = None;
        for _ in 0..ROUNDS {
            let current = self.state.load(&endpoint.id).await?;
            let next = recovery::recovered(&current.value, now);
            if self
                .state
                .save(&endpoint.id, &next, current.version)
                .await?
            {
                closed = Some(next);
                break;
            }
        }
        let Some(state) = closed else {
            return Err(PortError::Unavailable(format!(
                "endpoint {id}: its state kept changing under {ROUNDS} compare-and-set rounds"
            ))
            .into());
        };
        // Only now: a job brought forward must find the circuit closed and the time set.
        let brought_forward = self.recall.bring_forward(&endpoint.id).await?;
        Ok(Recovered {
            id: endpoint.id,
            circuit: state.circuit.name().to_owned(),
            recovered_at: now,
            brought_forward,
        })
    }

    /// A new secret signs from now on; the old ones keep signing through the grace period so
    /// the receiver can switch without dropping deliveries.
    pub async fn rotate_secret(&self, id: &str) -> Result<Secret, AdminError> {
        let mut endpoint = self.get_endpoint(id).await?;
        let secret = Secret::generate(self.entropy.bytes32());
        let grace = chrono::Duration::from_std(self.settings.rotation_grace)
            .unwrap_or(chrono::Duration::hours(24));
        endpoint.rotate_secret(secret.clone(), self.clock.now(), grace);
        self.endpoints.put(&endpoint).await?;
        Ok(secret)
    }

    /// Sends a test event to this endpoint alone, whatever types it subscribes to.
    pub async fn send_test(&self, id: &str) -> Result<EventId, AdminError> {
        let endpoint = self.get_endpoint(id).await?;
        let now = self.clock.now();
        let mut data = serde_json::Map::new();
        data.insert("message".into(), "a test event from authhooks".into());
        data.insert("endpoint_id".into(), endpoint.id.to_string().into());
        let event = Event {
            id: EventId::generate(now, self.entropy.u128()),
            event_type: EventType::parse(TEST_EVENT_TYPE)
                .map_err(|e| PortError::Corrupt(format!("test event type: {e}")))?,
            timestamp: now,
            data: data.into(),
            origin: Some("authhooks".into()),
            subject: None,
            tenant_id: None,
            correlation_id: None,
            sequence: None,
        };
        let id = event.id.clone();
        // Its attempts are listed like any event's, from the delivery's own record.
        self.queue
            .enqueue(vec![Enqueue {
                job: DeliveryJob::new(event, endpoint.id),
                delay: Duration::ZERO,
            }])
            .await?;
        Ok(id)
    }

    pub async fn list_failures(
        &self,
        filter: &FailureFilter,
        page: PageRequest,
    ) -> Result<Page<FailureRecord>, AdminError> {
        Ok(self.failures.list(filter, page).await?)
    }

    pub async fn replay_failure(&self, id: &str) -> Result<String, AdminError> {
        // Enqueued again as a fresh delivery (attempts start over under a new generation),
        // then marked replayed.
        let record = self
            .failures
            .get(id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("failure {id}")))?;
        self.queue
            .enqueue(vec![Enqueue {
                job: record.job.replayed(),
                delay: Duration::ZERO,
            }])
            .await?;
        self.failures.mark_replayed(id, self.clock.now()).await?;
        Ok(record.id)
    }

    /// Replays every matching failure not replayed before, up to [`MAX_BULK_REPLAY`]; an
    /// explicit single replay is the way to replay one again.
    pub async fn replay_failures(&self, filter: &FailureFilter) -> Result<Vec<String>, AdminError> {
        let mut replayed = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self.failures.list(filter, page.clone()).await?;
            for record in found.items.iter().filter(|r| r.replayed_at.is_none()) {
                if replayed.len() == MAX_BULK_REPLAY {
                    return Ok(replayed);
                }
                replayed.push(self.replay_failure(&record.id).await?);
            }
            match found.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return Ok(replayed),
            }
        }
    }

    /// Every recorded attempt of every delivery of one event to the endpoints there are now:
    /// from each delivery's record once delivered, or from its failure record once given up.
    /// Deliveries still retrying show none yet.
    pub async fn attempts(&self, event_id: &str) -> Result<Vec<AttemptItem>, AdminError> {
        let not_found = || AdminError::NotFound(format!("event {event_id}"));
        let id = EventId::parse(event_id).map_err(|_| not_found())?;
        let endpoints = crate::ports::list_all_endpoints(self.endpoints.as_ref()).await?;
        let deliveries: Vec<(EndpointId, DeliveryId)> = endpoints
            .into_iter()
            .map(|endpoint| {
                let delivery = DeliveryId::derive(&id, &endpoint.id);
                (endpoint.id, delivery)
            })
            .collect();
        let keys: Vec<IdempotencyKey> = deliveries
            .iter()
            .map(|(_, delivery)| IdempotencyKey::delivery(delivery))
            .collect();
        let records = self.idempotency.peek_many(&keys, self.clock.now()).await?;

        let mut seen = false;
        let mut items = Vec::new();
        for ((endpoint_id, delivery), record) in deliveries.into_iter().zip(records) {
            let history = match record {
                None => continue,
                Some(ClaimOutcome::Completed { history }) => history,
                Some(_) => self
                    .failures
                    .get(&FailureRecord::id_of(&delivery, 0))
                    .await?
                    .map(|f| f.job.history)
                    .unwrap_or_default(),
            };
            seen = true;
            items.extend(history.into_iter().map(|record| AttemptItem {
                endpoint_id: endpoint_id.clone(),
                record,
            }));
        }
        if seen {
            Ok(items)
        } else {
            Err(not_found())
        }
    }
}
