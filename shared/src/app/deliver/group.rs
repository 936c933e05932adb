//! One endpoint's share of a batch: admission for all of them at once, then each line of
//! jobs attempted (`line`), then the circuit updated with the results.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::attempt::Attempted;
use super::notify::notify;
use super::{line, state, EndpointStats, FollowUp, Taken, Worker};
use crate::domain::admission::{self, Deferral};
use crate::domain::delivery::{later, schedule, DeadLetter, DeliveryJob};
use crate::domain::delivery_log::LogEntry;
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::domain::in_flight::busy_wait;
use crate::domain::operational::{circuit_notice, Notice};
use crate::domain::order::deferral_hold;
use crate::domain::outcome::FailureReason;
use crate::ports::Enqueue;

#[derive(Debug, Default)]
pub(super) struct GroupOutcome {
    pub(super) stats: EndpointStats,
    /// The attempts made, for the delivery log.
    pub(super) log: Vec<LogEntry>,
    pub(super) follow_ups: Vec<(String, FollowUp)>,
}

impl GroupOutcome {
    fn all(jobs: Vec<Taken>, make: impl Fn(DeliveryJob) -> FollowUp) -> Self {
        Self {
            stats: EndpointStats::default(),
            log: Vec::new(),
            follow_ups: jobs
                .into_iter()
                .map(|taken| (taken.message_id, make(taken.job)))
                .collect(),
        }
    }
}

fn dead(reason: FailureReason) -> impl Fn(DeliveryJob) -> FollowUp {
    move |job| FollowUp::DeadLetter {
        letter: DeadLetter { reason, job },
        claim: None,
        keep: None,
    }
}

pub(super) async fn deliver(
    worker: &Worker,
    endpoint_id: EndpointId,
    jobs: Vec<Taken>,
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

    // Slots first: admission then decides only for jobs that may start now, so a half-open
    // circuit's probes and the bucket's tokens go to jobs that are sent.
    let all = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
    let mut slots = worker
        .in_flight
        .reserve(&endpoint_id, all, worker.settings.max_in_flight);
    let wanted = slots.held();
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
        if !disable(worker, &mut endpoint, "circuit open for 5 days").await {
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
        return GroupOutcome::all(jobs, dead(FailureReason::CircuitDisabled));
    }

    let mut outcome = GroupOutcome::default();
    let mut jobs = jobs.into_iter();
    let to_send: Vec<Taken> = jobs.by_ref().take(verdict.allowed as usize).collect();
    slots.keep(verdict.allowed);
    let outage = current
        .circuit
        .open_since()
        .and_then(|since| (now - since).to_std().ok())
        .unwrap_or_default();
    // Admission's deferrals first (zipped that way round so no job is drawn and dropped),
    // then the jobs over the cap on attempts in flight.
    let busy_until = later(now, busy_wait(endpoint.timeout()));
    let deferred = verdict
        .deferred
        .into_iter()
        .zip(jobs.by_ref())
        .collect::<Vec<_>>()
        .into_iter()
        .chain(jobs.map(|taken| ((Deferral::Busy, busy_until), taken)));
    for ((why, due), taken) in deferred {
        let Taken {
            message_id,
            receipt_handle,
            job,
        } = taken;
        match why {
            Deferral::Circuit => outcome.stats.deferred_circuit += 1,
            Deferral::Rate => outcome.stats.deferred_rate += 1,
            Deferral::Busy => outcome.stats.deferred_busy += 1,
        }
        tracing::info!(
            event_id = %job.event.id,
            delivery_id = %job.delivery_id,
            endpoint_id = %job.endpoint_id,
            deferred_by = ?why,
            until = %due,
            "deferred"
        );
        outcome.follow_ups.push((
            message_id,
            defer(job, receipt_handle, (why, outage), due, now),
        ));
    }

    let mut results = Vec::new();
    let mut gone = false;
    let attempted = line::run(worker, &endpoint, to_send, current.recovered_at).await;
    drop(slots);
    for done in attempted {
        match done {
            Attempted::Skipped(message_id) => {
                outcome.stats.duplicates += 1;
                outcome.follow_ups.push((message_id, FollowUp::Done));
            }
            Attempted::Failed(message_id) => {
                outcome.follow_ups.push((message_id, FollowUp::Redeliver))
            }
            Attempted::Waiting(message_id, follow_up) => {
                outcome.stats.held += 1;
                outcome.follow_ups.push((message_id, *follow_up));
            }
            Attempted::Sent {
                message_id,
                success,
                latency_ms,
                entry,
                follow_up,
            } => {
                results.push(success);
                outcome.log.push(*entry);
                outcome.stats.latencies_ms.push(latency_ms);
                match follow_up.as_ref() {
                    FollowUp::Done => outcome.stats.delivered += 1,
                    FollowUp::Enqueue { .. } | FollowUp::Hold { .. } => outcome.stats.retried += 1,
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
        // The state this write replaced comes back with it, so a transition is reported
        // once, by the worker whose write made it.
        let recorded = state::update(worker, &endpoint_id, |s| {
            (
                s.circuit.clone(),
                admission::record_results(
                    s,
                    &endpoint.circuit,
                    results.iter().copied(),
                    worker.clock.now(),
                ),
            )
        })
        .await;
        match recorded {
            Ok((before, after)) => {
                if let Some(notice) = circuit_notice(&endpoint, &before, &after.circuit) {
                    notify(worker, &[notice]).await;
                }
            }
            Err(e) => {
                tracing::warn!(endpoint_id = %endpoint_id, error = %e, results = results.len(), "circuit update lost");
            }
        }
    }
    if gone {
        tracing::warn!(endpoint_id = %endpoint_id, "endpoint answered 410 Gone; disabling it");
        disable(worker, &mut endpoint, "endpoint answered 410 Gone").await;
    }
    outcome
}

/// Disables the endpoint for `reason` and, once that is stored, says so (an
/// `authhooks.endpoint.disabled` notice); whether it was stored.
async fn disable(worker: &Worker, endpoint: &mut Endpoint, reason: &str) -> bool {
    endpoint.disable(reason, worker.clock.now());
    if worker.endpoints.put(endpoint).await.is_err() {
        return false;
    }
    let endpoint = &*endpoint;
    notify(worker, &[Notice::Disabled { endpoint, reason }]).await;
    true
}

/// Puts a held-back job off until `due`, no attempt counted: an ordered one is held in
/// place (admission decides again when it comes back, so a wait beyond one hold needs no
/// record), behind an open circuit for longer the longer it has been open
/// ([`deferral_hold`]); an unordered one is re-enqueued with a delay.
fn defer(
    mut job: DeliveryJob,
    receipt_handle: String,
    (why, outage): (Deferral, Duration),
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> FollowUp {
    if job.order_key.is_some() {
        let wait = (due - now).to_std().unwrap_or_default();
        let wait = match why {
            Deferral::Circuit => deferral_hold(wait, outage),
            Deferral::Rate | Deferral::Busy => wait,
        };
        return FollowUp::Hold {
            receipt_handle,
            // Cut to the longest hold by the queue; admission decides again on its return.
            delay: wait,
        };
    }
    let (delay, not_before) = schedule(due, now);
    job.not_before = not_before;
    FollowUp::Enqueue {
        enqueue: Enqueue { job, delay },
        claim: None,
    }
}
