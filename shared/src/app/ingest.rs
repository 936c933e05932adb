//! Ingest: authenticate, validate, deduplicate by event id, match endpoints and enqueue one
//! job per (event, endpoint). Never loses and never duplicates across a failure half-way:
//! each event's idempotency record is claimed in progress and completed only once all its
//! jobs are enqueued, and released if enqueueing fails, so the producer's retry redoes it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Env;
use crate::domain::delivery::{later, DeliveryJob};
use crate::domain::endpoint::Endpoint;
use crate::domain::event::{parse_submission, Event, EventLimits, SubmissionError};
use crate::domain::filter::matches;
use crate::domain::ids::{seeded_random, EndpointId, EventId};
use crate::domain::signature::{verify, Secret, SignedHeaders, VerifyError};
use crate::ports::{
    Claim, ClaimOutcome, DeliveryQueue, EndpointStore, Enqueue, IdempotencyKey, IdempotencyStore,
    PortError,
};

#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub limits: EventLimits,
    /// How long an event id is remembered (docs/architecture.md: 48 h).
    pub dedupe_ttl: Duration,
    /// How long a half-done ingest holds its event ids before a retry may take them over.
    pub lease: Duration,
    /// Producers' signing secret; `None` when the Function URL authenticates with IAM.
    pub secret: Option<Secret>,
    pub tolerance_secs: i64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            limits: EventLimits::default(),
            dedupe_ttl: Duration::from_secs(48 * 3600),
            lease: Duration::from_secs(60),
            secret: None,
            tolerance_secs: crate::domain::signature::DEFAULT_TOLERANCE_SECS,
        }
    }
}

/// The answer for one accepted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub id: EventId,
    pub deliveries: usize,
    pub duplicate: bool,
}

/// What a completed event's idempotency record remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub endpoints: Vec<EndpointId>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("signature rejected: {0}")]
    Unauthorized(#[from] VerifyError),
    #[error(transparent)]
    Invalid(#[from] SubmissionError),
    /// Another request is enqueueing this event right now; retry shortly.
    #[error("event {0} is being processed; retry shortly")]
    InProgress(EventId),
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

pub struct IngestPorts<'a> {
    pub endpoints: &'a dyn EndpointStore,
    pub idempotency: &'a dyn IdempotencyStore,
    pub queue: &'a dyn DeliveryQueue,
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

/// Validates and fans out an already authenticated submission (one event or a batch).
pub async fn ingest(
    ports: &IngestPorts<'_>,
    settings: &IngestSettings,
    env: Env<'_>,
    body: &[u8],
    request: Option<SignedRequest<'_>>,
) -> Result<Vec<Accepted>, IngestError> {
    let now = env.now();
    let events = match request {
        Some(request) => {
            let mut n = 0u64;
            let mut seeded = || {
                n += 1;
                seeded_random(request.id, n)
            };
            parse_submission(body, &settings.limits, request.at, &mut seeded)?
        }
        None => parse_submission(body, &settings.limits, now, &mut || env.entropy.u128())?,
    };
    let endpoints = crate::ports::list_all_endpoints(ports.endpoints).await?;

    let claim = Claim {
        token: 0,
        now,
        lease_until: later(now, settings.lease),
        expires_at: later(now, settings.dedupe_ttl),
    };
    let mut answers = Vec::with_capacity(events.len());
    let mut claimed: Vec<(Event, Vec<EndpointId>)> = Vec::new();
    for event in events {
        let key = IdempotencyKey::event(&event.id);
        match ports.idempotency.claim(&key, &claim).await {
            Ok(ClaimOutcome::Claimed) => {
                let targets = targets(&endpoints, &event);
                answers.push(Accepted {
                    id: event.id.clone(),
                    deliveries: targets.len(),
                    duplicate: false,
                });
                claimed.push((event, targets));
            }
            Ok(ClaimOutcome::Completed { detail }) => answers.push(Accepted {
                id: event.id,
                deliveries: deliveries_in(&detail),
                duplicate: true,
            }),
            Ok(ClaimOutcome::InProgress { .. }) => {
                release_all(ports, &claimed, claim.token).await;
                return Err(IngestError::InProgress(event.id));
            }
            Err(e) => {
                release_all(ports, &claimed, claim.token).await;
                return Err(e.into());
            }
        }
    }

    let jobs: Vec<Enqueue> = claimed
        .iter()
        .flat_map(|(event, targets)| {
            targets.iter().map(|endpoint| Enqueue {
                job: DeliveryJob::new(event.clone(), endpoint.clone()),
                delay: Duration::ZERO,
            })
        })
        .collect();
    if !jobs.is_empty() {
        if let Err(e) = ports.queue.enqueue(jobs).await {
            release_all(ports, &claimed, claim.token).await;
            return Err(e.into());
        }
    }

    // Enqueued: from here a failure to mark an event complete only means its lease
    // lapses and a retry enqueues again, which the deliveries' own keys absorb.
    for (event, targets) in &claimed {
        let summary = EventSummary {
            endpoints: targets.clone(),
        };
        let detail = serde_json::to_string(&summary)
            .map_err(|e| PortError::Corrupt(format!("event summary: {e}")))?;
        ports
            .idempotency
            .complete(
                &IdempotencyKey::event(&event.id),
                claim.token,
                &detail,
                claim.expires_at,
            )
            .await?;
    }
    Ok(answers)
}

/// The endpoints an event goes to, in id order.
fn targets(endpoints: &[Endpoint], event: &Event) -> Vec<EndpointId> {
    endpoints
        .iter()
        .filter(|endpoint| matches(endpoint, event))
        .map(|endpoint| endpoint.id.clone())
        .collect()
}

fn deliveries_in(detail: &str) -> usize {
    serde_json::from_str::<EventSummary>(detail).map_or(0, |s| s.endpoints.len())
}

/// Best effort: a release that fails leaves a lease that lapses on its own.
async fn release_all(ports: &IngestPorts<'_>, claimed: &[(Event, Vec<EndpointId>)], token: u64) {
    for (event, _) in claimed {
        let _ = ports
            .idempotency
            .release(&IdempotencyKey::event(&event.id), token)
            .await;
    }
}
