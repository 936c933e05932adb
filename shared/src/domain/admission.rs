//! Whether a batch of jobs may go to one endpoint now: its circuit first, then its rate
//! limit, decided together over the endpoint's one state item so that a whole batch costs
//! one conditional write.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::circuit::{CircuitConfig, CircuitState};
use super::delivery::later;
use super::rate_limit::{RateLimit, TokenBucket};

/// An endpoint's mutable delivery state: the circuit and, when rate-limited, the bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointState {
    pub circuit: CircuitState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<TokenBucket>,
    /// When an operator last said the endpoint is back (`recover`): waits decided before it
    /// are cut short ([`super::recovery`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_at: Option<DateTime<Utc>>,
}

/// Why a job was held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    Circuit,
    Rate,
    /// The endpoint has as many attempts in flight as it may ([`super::in_flight`]).
    Busy,
}

/// The verdict for `wanted` jobs: the first `allowed` may be sent now; each of the rest is
/// re-enqueued for its own time, with why (no attempt is counted).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAdmission {
    pub allowed: u32,
    pub deferred: Vec<(Deferral, DateTime<Utc>)>,
}

/// Decides admission for `wanted` jobs and returns the state to store.
///
/// The circuit is asked first without committing, so tokens are only taken for jobs it
/// would let through, and then committed for just the jobs that got tokens: a half-open
/// circuit never counts a probe that the rate limit held back.
pub fn admit(
    state: &EndpointState,
    circuit: &CircuitConfig,
    rate: Option<&RateLimit>,
    wanted: u32,
    now: DateTime<Utc>,
) -> (BatchAdmission, EndpointState) {
    let (circuit_ok, circuit_retry_at, _) = state.circuit.admit(circuit, wanted, now);

    let (allowed, bucket) = match rate {
        Some(limit) => {
            let bucket = state
                .bucket
                .map_or_else(|| TokenBucket::full(limit, now), |b| b.refilled(limit, now));
            let (granted, bucket) = bucket.take_up_to(limit, circuit_ok, now);
            (granted, Some(bucket))
        }
        None => (circuit_ok, None),
    };
    let (_, _, next_circuit) = state.circuit.admit(circuit, allowed, now);

    // Jobs the circuit let through but the bucket could not pay for wait for tokens; jobs
    // the circuit held back wait for it.
    let rate_held = circuit_ok - allowed;
    let mut deferred = match (rate, bucket.as_ref()) {
        (Some(limit), Some(b)) if rate_held > 0 => spread(limit, b, rate_held, now)
            .into_iter()
            .map(|at| (Deferral::Rate, at))
            .collect(),
        _ => Vec::new(),
    };
    let circuit_at = circuit_retry_at.unwrap_or(now);
    deferred.extend((circuit_ok..wanted).map(|_| (Deferral::Circuit, circuit_at)));

    let next = EndpointState {
        circuit: next_circuit,
        bucket,
        recovered_at: state.recovered_at,
    };
    (BatchAdmission { allowed, deferred }, next)
}

/// When each of `held` rate-limited jobs can go: the k-th waits for the k-th future token,
/// so a burst is paced out instead of returning all at once to be deferred again.
fn spread(
    limit: &RateLimit,
    bucket: &TokenBucket,
    held: u32,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    (1..=held)
        .map(|k| {
            let missing = (f64::from(k) - bucket.tokens).max(0.0);
            let wait = Duration::try_from_secs_f64(missing / limit.requests_per_second)
                .unwrap_or(Duration::MAX);
            later(now, wait)
        })
        .collect()
}

/// Whether the endpoint should be disabled rather than waited on any longer.
pub fn should_disable(state: &EndpointState, now: DateTime<Utc>) -> bool {
    state.circuit.open_too_long(
        now,
        chrono::Duration::days(CircuitState::DISABLE_AFTER_OPEN_DAYS),
    )
}

/// The state after the admitted jobs' results are known, applied in order.
pub fn record_results(
    state: &EndpointState,
    circuit: &CircuitConfig,
    successes: impl IntoIterator<Item = bool>,
    now: DateTime<Utc>,
) -> EndpointState {
    let circuit_state = successes.into_iter().fold(state.circuit.clone(), |c, ok| {
        if ok {
            c.record_success(circuit, now)
        } else {
            c.record_failure(circuit, now)
        }
    });
    EndpointState {
        circuit: circuit_state,
        bucket: state.bucket,
        recovered_at: state.recovered_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn circuit() -> CircuitConfig {
        CircuitConfig {
            failure_threshold: 2,
            success_threshold: 1,
            open_timeout_secs: 60,
            half_open_max_requests: 2,
        }
    }

    #[test]
    fn a_closed_circuit_without_limit_admits_all_and_changes_nothing() {
        let state = EndpointState::default();
        let (verdict, next) = admit(&state, &circuit(), None, 10, t(0));
        assert_eq!(verdict.allowed, 10);
        assert!(verdict.deferred.is_empty());
        assert_eq!(next, state);
    }

    #[test]
    fn the_rate_limit_paces_the_rest_one_token_apart() {
        let limit = RateLimit {
            requests_per_second: 2.0,
            burst_size: 3,
        };
        let (verdict, next) = admit(&EndpointState::default(), &circuit(), Some(&limit), 7, t(0));
        assert_eq!(verdict.allowed, 3);
        assert!(verdict
            .deferred
            .iter()
            .all(|(why, _)| *why == Deferral::Rate));
        let waits: Vec<i64> = verdict
            .deferred
            .iter()
            .map(|(_, at)| (*at - t(0)).num_milliseconds())
            .collect();
        assert_eq!(waits, [500, 1000, 1500, 2000]);
        assert!(next.bucket.is_some_and(|b| b.tokens.abs() < 1e-9));
    }

    #[test]
    fn an_open_circuit_defers_everything_to_its_timeout_without_taking_tokens() {
        let limit = RateLimit {
            requests_per_second: 1.0,
            burst_size: 5,
        };
        let state = EndpointState {
            circuit: CircuitState::Open {
                opened_at: t(0),
                open_since: t(0),
            },
            bucket: Some(TokenBucket {
                tokens: 5.0,
                updated_at: t(0),
            }),
            recovered_at: None,
        };
        let (verdict, next) = admit(&state, &circuit(), Some(&limit), 3, t(10));
        assert_eq!(verdict.allowed, 0);
        assert_eq!(verdict.deferred, vec![(Deferral::Circuit, t(60)); 3]);
        assert!(next.bucket.is_some_and(|b| (b.tokens - 5.0).abs() < 1e-9));
    }

    #[test]
    fn a_half_open_circuit_counts_only_probes_that_got_tokens() {
        let limit = RateLimit {
            requests_per_second: 1.0,
            burst_size: 1,
        };
        let state = EndpointState {
            circuit: CircuitState::Open {
                opened_at: t(0),
                open_since: t(0),
            },
            bucket: Some(TokenBucket {
                tokens: 1.0,
                updated_at: t(60),
            }),
            recovered_at: None,
        };
        let (verdict, next) = admit(&state, &circuit(), Some(&limit), 3, t(60));
        // Two probes allowed by the circuit, one of them paid for; the third waits for the
        // probes' answers, a second on (not for the window's end).
        assert_eq!(verdict.allowed, 1);
        assert_eq!(
            verdict.deferred,
            vec![(Deferral::Rate, t(61)), (Deferral::Circuit, t(61))]
        );
        assert!(matches!(
            next.circuit,
            CircuitState::HalfOpen { admitted: 1, .. }
        ));
    }

    #[test]
    fn results_move_the_circuit_in_order() {
        let state = EndpointState::default();
        let opened = record_results(&state, &circuit(), [false, false], t(0));
        assert!(matches!(opened.circuit, CircuitState::Open { .. }));
        let still_closed = record_results(&state, &circuit(), [false, true, false], t(0));
        assert_eq!(still_closed.circuit, CircuitState::Closed { failures: 1 });
    }

    #[test]
    fn endpoints_open_for_five_days_are_disabled() {
        let state = EndpointState {
            circuit: CircuitState::Open {
                opened_at: t(0),
                open_since: t(0),
            },
            bucket: None,
            recovered_at: None,
        };
        assert!(!should_disable(&state, t(5 * 86_400 - 1)));
        assert!(should_disable(&state, t(5 * 86_400)));
    }
}
