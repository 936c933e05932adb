//! One endpoint's share of a batch: admission for all of them at once — a unit being a
//! job, or for a batching endpoint a POST of them (§3.15) — then each line of jobs
//! attempted (`line`) or each POST sent (`batch`), then the circuit updated with the
//! results.

use super::attempted::Attempted;
use super::deferral::{defer, gather};
use super::notify::notify;
use super::{batch, line, state, EndpointStats, FollowUp, Taken, Worker};
use crate::domain::admission::{self, Deferral};
use crate::domain::delivery::{later, DeadLetter, DeliveryJob};
use crate::domain::delivery_log::LogEntry;
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::domain::in_flight::busy_wait;
use crate::domain::operational::{circuit_notice, Notice};
use crate::domain::outcome::FailureReason;

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

    let jobs = match endpoint.batch {
        Some(batching) => match gather(&batching, jobs, now) {
            Ok(jobs) => jobs,
            Err(follow_ups) => {
                let mut outcome = GroupOutcome::default();
                outcome.stats.gathering = u32::try_from(follow_ups.len()).unwrap_or(u32::MAX);
                outcome.follow_ups = follow_ups;
                return outcome;
            }
        },
        None => jobs,
    };
    // The unit admitted, counted in flight and deferred is a POST: a job, or a batch.
    let (units, left_over) = match endpoint.batch {
        Some(batching) => batching.pack(line::split(jobs), |t| t.job.event.to_body().len()),
        None => (
            jobs.into_iter().map(|taken| vec![taken]).collect(),
            Vec::new(),
        ),
    };

    // Slots first: admission then decides only for units that may start now, so a half-open
    // circuit's probes and the bucket's tokens go to POSTs that are sent.
    let all = u32::try_from(units.len()).unwrap_or(u32::MAX);
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
    let everything = || units.iter().flatten().count() + left_over.len();
    let (verdict, current) = match admitted {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(endpoint_id = %endpoint_id, error = %e, "endpoint state unavailable; jobs stay queued");
            let jobs = units.into_iter().flatten().chain(left_over).collect();
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
    };
    if admission::should_disable(&current, now) {
        tracing::warn!(endpoint_id = %endpoint_id, jobs = everything(), "circuit open for 5 days; disabling the endpoint");
        let jobs = units.into_iter().flatten().chain(left_over).collect();
        if !disable(worker, &mut endpoint, "circuit open for 5 days").await {
            return GroupOutcome::all(jobs, |_| FollowUp::Redeliver);
        }
        return GroupOutcome::all(jobs, dead(FailureReason::CircuitDisabled));
    }

    let mut outcome = GroupOutcome::default();
    for taken in left_over {
        // The tail of a subject's line that did not fit in its POST: behind it, at once.
        outcome.stats.held += 1;
        if let Attempted::Waiting(message_id, follow_up) = line::behind(taken) {
            outcome.follow_ups.push((message_id, *follow_up));
        }
    }
    let mut units = units.into_iter();
    let to_send: Vec<Vec<Taken>> = units.by_ref().take(verdict.allowed as usize).collect();
    slots.keep(verdict.allowed);
    let outage = current
        .circuit
        .open_since()
        .and_then(|since| (now - since).to_std().ok())
        .unwrap_or_default();
    // Admission's deferrals first (zipped that way round so no unit is drawn and dropped),
    // then the units over the cap on attempts in flight.
    let busy_until = later(now, busy_wait(endpoint.timeout()));
    let deferred = verdict
        .deferred
        .into_iter()
        .zip(units.by_ref())
        .collect::<Vec<_>>()
        .into_iter()
        .chain(units.map(|unit| ((Deferral::Busy, busy_until), unit)));
    for ((why, due), unit) in deferred {
        for taken in &unit {
            let job = &taken.job;
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
        }
        outcome
            .follow_ups
            .extend(defer(unit, (why, outage), due, now));
    }

    let attempted = match endpoint.batch {
        Some(_) => batch::run(worker, &endpoint, to_send, current.recovered_at).await,
        None => {
            let jobs = to_send.into_iter().flatten().collect();
            line::run(worker, &endpoint, jobs, current.recovered_at).await
        }
    };
    let mut results = Vec::new();
    let mut gone = false;
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
                counted,
                latency_ms,
                entry,
                follow_up,
            } => {
                if counted {
                    results.push(success);
                    outcome.stats.latencies_ms.push(latency_ms);
                }
                outcome.log.push(*entry);
                match follow_up.as_ref() {
                    FollowUp::Done => outcome.stats.delivered += 1,
                    FollowUp::Enqueue { .. } | FollowUp::Hold { .. } | FollowUp::Along { .. } => {
                        outcome.stats.retried += 1
                    }
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
