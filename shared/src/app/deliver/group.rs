//! One endpoint's share of a batch: admission for all of them at once, then a claim and a
//! signed attempt per admitted job, then the circuit updated with the results.

use chrono::{DateTime, Utc};
use futures::future::join_all;

use tracing::Instrument;

use super::{state, EndpointStats, FollowUp, Worker};
use crate::domain::admission::{self, Deferral};
use crate::domain::delivery::{later, schedule, AttemptRecord, DeadLetter, DeliveryJob};
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::domain::outcome::{classify, decide, Decision, FailureReason};
use crate::domain::retry::Jitter;
use crate::domain::webhook;
use crate::ports::{Claim, ClaimOutcome, Enqueue, IdempotencyKey, OutgoingRequest};

#[derive(Debug, Default)]
pub(super) struct GroupOutcome {
    pub(super) stats: EndpointStats,
    pub(super) follow_ups: Vec<(String, FollowUp)>,
}

impl GroupOutcome {
    fn all(jobs: Vec<(String, DeliveryJob)>, make: impl Fn(DeliveryJob) -> FollowUp) -> Self {
        Self {
            stats: EndpointStats::default(),
            follow_ups: jobs.into_iter().map(|(id, job)| (id, make(job))).collect(),
        }
    }
}

fn dead(reason: FailureReason) -> impl Fn(DeliveryJob) -> FollowUp {
    move |job| FollowUp::DeadLetter {
        letter: DeadLetter { reason, job },
        claim: None,
    }
}

pub(super) async fn deliver(
    worker: &Worker,
    endpoint_id: EndpointId,
    jobs: Vec<(String, DeliveryJob)>,
) -> GroupOutcome {
    let now = worker.clock.now();
    let mut endpoint = match worker.endpoints.get(&endpoint_id).await {
        Ok(Some(endpoint)) if endpoint.enabled => endpoint,
        Ok(_) => {
            tracing::warn!(endpoint_id = %endpoint_id, jobs = jobs.len(), "endpoint deleted or disabled; dead-lettering its jobs");
            return GroupOutcome::all(jobs, dead(FailureReason::EndpointUnavailable));
        }
        Err(e) => {
            tracing::warn!(endpoint_id = %endpoint_id, error = %e, "endpoint unreadable; jobs stay queued");
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
    };

    let wanted = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
    let admitted = state::update(worker, &endpoint_id, |s| {
        admission::admit(
            s,
            &endpoint.circuit,
            endpoint.rate_limit.as_ref(),
            wanted,
            now,
        )
    })
    .await;
    let (verdict, current) = match admitted {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(endpoint_id = %endpoint_id, error = %e, "endpoint state unavailable; jobs stay queued");
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
    };
    if admission::should_disable(&current, now) {
        tracing::warn!(endpoint_id = %endpoint_id, "circuit open for 5 days; disabling the endpoint");
        endpoint.disable("circuit open for 5 days", now);
        if worker.endpoints.put(&endpoint).await.is_err() {
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
        return GroupOutcome::all(jobs, dead(FailureReason::CircuitDisabled));
    }

    let mut outcome = GroupOutcome::default();
    let mut jobs = jobs.into_iter();
    let to_send: Vec<(String, DeliveryJob)> =
        jobs.by_ref().take(verdict.allowed as usize).collect();
    for ((message_id, job), (why, due)) in jobs.zip(verdict.deferred) {
        match why {
            Deferral::Circuit => outcome.stats.deferred_circuit += 1,
            Deferral::Rate => outcome.stats.deferred_rate += 1,
        }
        tracing::info!(
            event_id = %job.event.id,
            delivery_id = %job.delivery_id,
            endpoint_id = %job.endpoint_id,
            deferred_by = ?why,
            until = %due,
            "deferred"
        );
        outcome.follow_ups.push((message_id, defer(job, due, now)));
    }

    let attempts = join_all(to_send.into_iter().map(|(message_id, job)| {
        let span = tracing::info_span!(
            "delivery",
            event_id = %job.event.id,
            delivery_id = %job.delivery_id,
            endpoint_id = %job.endpoint_id,
        );
        attempt(worker, &endpoint, message_id, job).instrument(span)
    }))
    .await;

    let mut results = Vec::new();
    let mut gone = false;
    for done in attempts {
        match done {
            Attempted::Skipped(message_id) => {
                outcome.stats.duplicates += 1;
                outcome.follow_ups.push((message_id, FollowUp::Done));
            }
            Attempted::Failed(message_id) => {
                outcome.follow_ups.push((message_id, FollowUp::Redeliver))
            }
            Attempted::Sent {
                message_id,
                success,
                latency_ms,
                follow_up,
            } => {
                results.push(success);
                outcome.stats.latencies_ms.push(latency_ms);
                match follow_up.as_ref() {
                    FollowUp::Done => outcome.stats.delivered += 1,
                    FollowUp::Enqueue { .. } => outcome.stats.retried += 1,
                    FollowUp::DeadLetter { letter, .. } => {
                        gone |= letter.reason == FailureReason::Gone
                    }
                    FollowUp::Redeliver => {}
                }
                outcome.follow_ups.push((message_id, *follow_up));
            }
        }
    }

    // Results that leave the circuit as admission left it (successes on a clean closed
    // circuit, the common case) need no read and no write: they are ordered as if they had
    // come at admission, which concurrent attempts allow. That saves a read per batch.
    let changes = admission::record_results(
        &current,
        &endpoint.circuit,
        results.iter().copied(),
        worker.clock.now(),
    )
    .circuit
        != current.circuit;
    if changes {
        // The attempts happened whatever the state store says now: losing one circuit update
        // is better than leaving the messages to be redelivered and sent again.
        let recorded = state::update(worker, &endpoint_id, |s| {
            (
                (),
                admission::record_results(
                    s,
                    &endpoint.circuit,
                    results.iter().copied(),
                    worker.clock.now(),
                ),
            )
        })
        .await;
        if let Err(e) = recorded {
            tracing::warn!(endpoint_id = %endpoint_id, error = %e, results = results.len(), "circuit update lost");
        }
    }
    if gone {
        tracing::warn!(endpoint_id = %endpoint_id, "endpoint answered 410 Gone; disabling it");
        endpoint.disable("endpoint answered 410 Gone", worker.clock.now());
        let _ = worker.endpoints.put(&endpoint).await;
    }
    outcome
}

/// Re-enqueue a held-back job for `due`; no attempt is counted.
fn defer(mut job: DeliveryJob, due: DateTime<Utc>, now: DateTime<Utc>) -> FollowUp {
    let (delay, not_before) = schedule(due, now);
    job.not_before = not_before;
    FollowUp::Enqueue {
        enqueue: Enqueue { job, delay },
        claim: None,
    }
}

enum Attempted {
    /// Already delivered, or being delivered by another worker right now.
    Skipped(String),
    Failed(String),
    Sent {
        message_id: String,
        success: bool,
        latency_ms: u64,
        // Boxed: a follow-up carries a whole job, the other variants a message id.
        follow_up: Box<FollowUp>,
    },
}

async fn attempt(
    worker: &Worker,
    endpoint: &Endpoint,
    message_id: String,
    job: DeliveryJob,
) -> Attempted {
    let now = worker.clock.now();
    let key = IdempotencyKey::delivery(&job.delivery_id);
    let claim = Claim {
        token: job.claim_token(),
        now,
        lease_until: later(now, endpoint.timeout() + worker.settings.claim_margin),
        expires_at: later(now, worker.settings.delivered_ttl),
    };
    match worker.idempotency.claim(&key, &claim).await {
        Ok(ClaimOutcome::Claimed { .. }) => {}
        Ok(ClaimOutcome::Completed { .. }) => {
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "already delivered; skipped");
            return Attempted::Skipped(message_id);
        }
        Ok(ClaimOutcome::InProgress { .. }) => {
            tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, "being delivered by another worker; skipped");
            return Attempted::Skipped(message_id);
        }
        Err(e) => {
            tracing::warn!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %endpoint.id, error = %e, "delivery claim unavailable; the job stays queued");
            return Attempted::Failed(message_id);
        }
    }

    let number = job.attempts + 1;
    let body = job.event.to_body();
    let request = OutgoingRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: webhook::headers(endpoint, &job, number, &body, now),
        body,
        timeout: endpoint.timeout(),
    };
    let sent = worker.sender.send(request).await;
    let finished = worker.clock.now();
    let verdict = classify(&sent.result, finished);
    let record = AttemptRecord::from_result(number, &sent.result, sent.latency, now);
    let next = job.after_attempt(record);
    let jitter = Jitter::from_unit(worker.entropy.unit());

    let decision = decide(verdict, &endpoint.retry, number, jitter);
    let record = next.history.last();
    // Identifiers, status and timing only: never bodies, headers or signatures.
    tracing::info!(
        event_id = %next.event.id,
        delivery_id = %next.delivery_id,
        endpoint_id = %next.endpoint_id,
        attempt = number,
        status = record.and_then(|r| r.status),
        error = record.and_then(|r| r.error.as_deref()),
        latency_ms = record.map(|r| r.latency_ms),
        outcome = outcome_name(&decision),
        "attempt finished"
    );
    let follow_up = match decision {
        Decision::Delivered => {
            // Delivered either way; a lost completion only weakens duplicate suppression.
            let _ = worker
                .idempotency
                .complete(&key, claim.token, &next.history, claim.expires_at)
                .await;
            FollowUp::Done
        }
        Decision::RetryIn(delay) => {
            let (delay, not_before) = schedule(later(finished, delay), finished);
            let mut job = next;
            job.not_before = not_before;
            FollowUp::Enqueue {
                enqueue: Enqueue { job, delay },
                claim: Some((key, claim.token)),
            }
        }
        Decision::GiveUp(reason) => FollowUp::DeadLetter {
            letter: DeadLetter { reason, job: next },
            claim: Some((key, claim.token)),
        },
    };
    Attempted::Sent {
        message_id,
        success: verdict.is_success(),
        latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
        follow_up: Box::new(follow_up),
    }
}

fn outcome_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Delivered => "delivered",
        Decision::RetryIn(_) => "retry",
        Decision::GiveUp(reason) => reason.as_str(),
    }
}
