//! Ingest: authenticate, validate, match endpoints, deduplicate and enqueue one job per
//! (event, endpoint). It writes nothing to the state store: an event is recognised as seen
//! by its deliveries' records (`dlv#`, claimed by the worker before each send), read in one
//! batch. So a failure half-way leaves nothing behind that a producer's retry could trip
//! on, and a replay that arrives before any worker claimed its deliveries enqueues copies
//! whose deterministic delivery ids make the worker send them once. This is what keeps a
//! delivery at two DynamoDB writes in all (BENCHMARKS.md §3).
//!
//! Endpoints are found through the subscribers' index, and an event with more deliveries
//! than the threshold hands them to fan-out tasks (`domain::fanout`), so a request's work
//! is bounded whatever the number of endpoints.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::batch::{self, Batching};
use crate::domain::dedupe::{self, Owed};
use crate::domain::delivery::DeliveryJob;
use crate::domain::endpoint::Endpoint;
use crate::domain::event::{parse_submission, Event, EventLimits, SubmissionError};
use crate::domain::fanout::{plan, FanOutSettings, FanOutTask};
use crate::domain::ids::{seeded_random, DeliveryId, EndpointId};
use crate::domain::order::next_sequence;
use crate::domain::signature::{verify, Secret, SignedHeaders, VerifyError};
use crate::domain::trace::TraceParent;
use crate::ports::{
    Clock, DeliveryQueue, Enqueue, Entropy, FanOutQueue, IdempotencyKey, IdempotencyStore, Notices,
    PortError, Subscribers,
};

#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub limits: EventLimits,
    /// Producers' signing secret; `None` when the Function URL authenticates with IAM.
    pub secret: Option<Secret>,
    pub tolerance_secs: i64,
    pub fan_out: FanOutSettings,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            limits: EventLimits::default(),
            secret: None,
            tolerance_secs: crate::domain::signature::DEFAULT_TOLERANCE_SECS,
            fan_out: FanOutSettings::default(),
        }
    }
}

/// The answer for one accepted event.
pub use crate::wire::Accepted;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("signature rejected: {0}")]
    Unauthorized(#[from] VerifyError),
    #[error(transparent)]
    Invalid(#[from] SubmissionError),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// The signed request a submission came in: its id and time. Generated event ids derive
/// from them, so a replay of the same request is a duplicate rather than new events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRequest<'a> {
    pub id: &'a str,
    pub at: DateTime<Utc>,
}

/// Ingest over the ports it owns.
#[derive(Clone)]
pub struct Ingest {
    pub subscribers: Arc<dyn Subscribers>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub fan_out: Arc<dyn FanOutQueue>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub sequencer: Arc<Sequencer>,
    pub settings: IngestSettings,
}

/// The last sequence this process stamped, so that its events strictly increase (see
/// [`next_sequence`]).
#[derive(Debug, Default)]
pub struct Sequencer(AtomicU64);

impl Sequencer {
    pub fn next(&self, now: DateTime<Utc>) -> u64 {
        let step = |last| Some(next_sequence(last, now));
        // The closure always answers Some, so both arms carry the value it started from.
        let last = match self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, step)
        {
            Ok(last) | Err(last) => last,
        };
        next_sequence(last, now)
    }
}

/// Checks the producer's Standard Webhooks signature when a secret is configured, and
/// returns the request it proved (`None` when signatures are off: IAM authenticates).
pub fn authenticate<'h>(
    settings: &IngestSettings,
    headers: &SignedHeaders<'h>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SignedRequest<'h>>, IngestError> {
    let Some(secret) = &settings.secret else {
        return Ok(None);
    };
    verify(
        [secret],
        headers,
        body,
        now.timestamp(),
        settings.tolerance_secs,
    )?;
    // verify() accepted the timestamp, so it parses.
    let at = headers
        .timestamp
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(now);
    Ok(Some(SignedRequest { id: headers.id, at }))
}

impl Ingest {
    /// [`authenticate`] with this ingest's settings, now.
    pub fn authenticate<'h>(
        &self,
        headers: &SignedHeaders<'h>,
        body: &[u8],
    ) -> Result<Option<SignedRequest<'h>>, IngestError> {
        authenticate(&self.settings, headers, body, self.clock.now())
    }

    /// Validates and fans out an already authenticated submission (one event or a batch).
    /// `trace`, the producer's trace context, goes with every job it makes.
    pub async fn ingest(
        &self,
        body: &[u8],
        request: Option<SignedRequest<'_>>,
        trace: Option<&TraceParent>,
    ) -> Result<Vec<Accepted>, IngestError> {
        let now = self.clock.now();
        let events = match request {
            Some(request) => {
                let mut n = 0u64;
                let mut seeded = || {
                    n += 1;
                    seeded_random(request.id, n)
                };
                parse_submission(body, &self.settings.limits, request.at, &mut seeded)?
            }
            None => parse_submission(body, &self.settings.limits, now, &mut || {
                self.entropy.u128()
            })?,
        };
        Ok(self.accept(events, now, trace).await?)
    }

    /// Stamps, fans out and enqueues validated events: what ingest does once a submission
    /// parsed, and what authhooks' own notices go through.
    async fn accept(
        &self,
        events: Vec<Event>,
        now: DateTime<Utc>,
        trace: Option<&TraceParent>,
    ) -> Result<Vec<Accepted>, PortError> {
        let index = self.subscribers.index().await?;
        let ordered_endpoints = index.ordered();
        let mut answers = Vec::with_capacity(events.len());
        // Stamped in the order accepted: what receivers compare to drop a stale update.
        let mut inline: Vec<(Event, Vec<&Endpoint>)> = Vec::with_capacity(events.len());
        let mut tasks: Vec<FanOutTask> = Vec::new();
        for mut event in events {
            event.sequence = Some(self.sequencer.next(now));
            let targets = index.targets(&event);
            answers.push(Accepted {
                id: event.id.clone(),
                deliveries: targets.len(),
                duplicate: false,
            });
            let planned = plan(targets, &event, ordered_endpoints, &self.settings.fan_out);
            let planned_tasks = planned.tasks.into_iter().map(|mut task| {
                task.trace = trace.cloned();
                task
            });
            tasks.extend(planned_tasks);
            inline.push((event, planned.inline));
        }

        // Seen before = its deliveries have records (a worker claimed them). One batched read
        // for the deliveries ingest enqueues itself; nothing is written here, so nothing can
        // be left half-done. A fan-out task's pages are checked the same way as they expand.
        let keys: Vec<IdempotencyKey> = inline
            .iter()
            .flat_map(|(event, targets)| {
                targets.iter().map(|endpoint| {
                    IdempotencyKey::delivery(&DeliveryId::derive(&event.id, &endpoint.id))
                })
            })
            .collect();
        let seen = seen(self.idempotency.as_ref(), &keys, now).await?;

        let batching: HashMap<EndpointId, Batching> = inline
            .iter()
            .flat_map(|(_, targets)| targets.iter())
            .filter_map(|endpoint| Some((endpoint.id.clone(), endpoint.batch?)))
            .collect();
        let mut jobs: Vec<Enqueue> = Vec::new();
        let mut offset = 0;
        for ((event, targets), answer) in inline.into_iter().zip(answers.iter_mut()) {
            let seen = seen.get(offset..).unwrap_or_default();
            offset += targets.len();
            let (fresh, duplicate) = fresh_jobs(&event, &targets, seen, trace);
            // An event handed to a task is never called a duplicate: its pages are not read.
            answer.duplicate = duplicate && answer.deliveries == targets.len();
            jobs.extend(fresh);
        }
        if !jobs.is_empty() {
            self.queue.enqueue(together(jobs, &batching)).await?;
        }
        if !tasks.is_empty() {
            self.fan_out.fan_out(tasks, Duration::ZERO).await?;
        }
        Ok(answers)
    }
}

#[async_trait]
impl Notices for Ingest {
    async fn notify(&self, events: Vec<Event>) -> Result<(), PortError> {
        if events.is_empty() {
            return Ok(());
        }
        self.accept(events, self.clock.now(), None)
            .await
            .map(|_| ())
    }
}

/// The jobs as they go on the queue: a batching endpoint's together (§3.15).
fn together(jobs: Vec<Enqueue>, batching: &HashMap<EndpointId, Batching>) -> Vec<Enqueue> {
    if batching.is_empty() {
        return jobs;
    }
    let jobs = jobs.into_iter().map(|e| e.job).collect();
    batch::together_at_ingest(jobs, |id| batching.get(id).copied())
        .into_iter()
        .map(|job| Enqueue {
            job,
            delay: Duration::ZERO,
        })
        .collect()
}

/// Whether each key has a live record (a worker claimed its delivery), in one batched read.
pub(crate) async fn seen(
    idempotency: &dyn IdempotencyStore,
    keys: &[IdempotencyKey],
    now: DateTime<Utc>,
) -> Result<Vec<bool>, PortError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let found = idempotency.peek_many(keys, now).await?;
    Ok(found.iter().map(Option::is_some).collect())
}

/// The jobs `event` owes `targets` (`seen[i]`: the delivery to `targets[i]` has a record),
/// and whether it owes none because all are under way or done. Each job carries `trace`.
pub(crate) fn fresh_jobs(
    event: &Event,
    targets: &[&Endpoint],
    seen: &[bool],
    trace: Option<&TraceParent>,
) -> (Vec<Enqueue>, bool) {
    let Owed { fresh, duplicate } = dedupe::owed(targets, seen);
    let jobs = fresh
        .into_iter()
        .map(|endpoint| {
            let mut job = DeliveryJob::new(event.clone(), endpoint.id.clone());
            job.order_key = endpoint.order_key(event);
            job.trace = trace.cloned();
            Enqueue {
                job,
                delay: Duration::ZERO,
            }
        })
        .collect();
    (jobs, duplicate)
}
