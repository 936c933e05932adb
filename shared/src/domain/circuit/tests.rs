//! Tests for the circuit breaker's transitions and half-open admission.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

fn cfg() -> CircuitConfig {
    CircuitConfig::default()
}

fn fail_times(state: CircuitState, times: u32, at: DateTime<Utc>) -> CircuitState {
    (0..times).fold(state, |s, _| s.record_failure(&cfg(), at))
}

fn open_at(secs: i64) -> CircuitState {
    CircuitState::Open {
        opened_at: t(secs),
        open_since: t(secs),
    }
}

fn half_open(since: i64, admitted: u32, successes: u32) -> CircuitState {
    CircuitState::HalfOpen {
        open_since: t(0),
        since: t(since),
        admitted,
        successes,
    }
}

#[test]
fn defaults_match_the_design() {
    assert_eq!(
        cfg(),
        CircuitConfig {
            failure_threshold: 5,
            success_threshold: 2,
            open_timeout_secs: 60,
            half_open_max_requests: 3
        }
    );
    assert!(cfg().validate("circuit").is_empty());
    assert_eq!(
        CircuitState::default(),
        CircuitState::Closed { failures: 0 }
    );
}

#[test]
fn validation_reports_every_problem() {
    let zeros = CircuitConfig {
        failure_threshold: 0,
        success_threshold: 0,
        open_timeout_secs: 0,
        half_open_max_requests: 0,
    };
    let fields: Vec<_> = zeros
        .validate("circuit")
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "circuit.failure_threshold",
            "circuit.success_threshold",
            "circuit.open_timeout_secs",
            "circuit.half_open_max_requests"
        ]
    );
    let too_big = CircuitConfig {
        failure_threshold: 1001,
        success_threshold: 101,
        open_timeout_secs: 86_401,
        half_open_max_requests: 101,
    };
    assert_eq!(too_big.validate("").len(), 4);
    let edges = CircuitConfig {
        failure_threshold: 1000,
        success_threshold: 100,
        open_timeout_secs: 86_400,
        half_open_max_requests: 100,
    };
    assert!(edges.validate("").is_empty());
}

#[test]
fn full_cycle_closed_open_half_open_closed() {
    let c = cfg();
    let closed = fail_times(CircuitState::default(), 4, t(0));
    assert_eq!(closed, CircuitState::Closed { failures: 4 });
    assert_eq!(closed.admit(&c, 7, t(0)), (7, None, closed.clone()));

    let open = closed.record_failure(&c, t(10));
    assert_eq!(open, open_at(10));
    assert_eq!(open.name(), "open");
    assert_eq!(open.admit(&c, 2, t(69)), (0, Some(t(70)), open.clone()));

    let (admitted, retry_at, half) = open.admit(&c, 5, t(70));
    assert_eq!((admitted, retry_at), (3, Some(t(71))));
    let probing = CircuitState::HalfOpen {
        open_since: t(10),
        since: t(70),
        admitted: 3,
        successes: 0,
    };
    assert_eq!(half, probing);
    assert_eq!(half.name(), "half_open");

    let one = half.record_success(&c, t(71));
    assert_eq!(
        one,
        CircuitState::HalfOpen {
            open_since: t(10),
            since: t(70),
            admitted: 3,
            successes: 1
        }
    );
    let closed = one.record_success(&c, t(72));
    assert_eq!(closed, CircuitState::Closed { failures: 0 });
    assert_eq!(closed.name(), "closed");
}

#[test]
fn a_success_resets_the_failure_count() {
    let state = fail_times(CircuitState::default(), 4, t(0)).record_success(&cfg(), t(1));
    assert_eq!(
        fail_times(state, 4, t(2)),
        CircuitState::Closed { failures: 4 }
    );
}

#[test]
fn a_failed_probe_reopens_and_keeps_open_since() {
    let reopened = half_open(60, 1, 1).record_failure(&cfg(), t(65));
    assert_eq!(
        reopened,
        CircuitState::Open {
            opened_at: t(65),
            open_since: t(0)
        }
    );
    assert_eq!(reopened.admit(&cfg(), 1, t(100)).1, Some(t(125)));
}

#[test]
fn late_results_leave_an_open_circuit_alone() {
    let open = open_at(0);
    assert_eq!(open.record_success(&cfg(), t(1)), open);
    assert_eq!(open.record_failure(&cfg(), t(1)), open);
}

#[test]
fn half_open_admits_at_most_its_budget_per_window() {
    let c = cfg();
    let (first, retry_at, state) = open_at(0).admit(&c, 2, t(60));
    assert_eq!((first, retry_at), (2, None));
    let (second, retry_at, state) = state.admit(&c, 2, t(61));
    assert_eq!((second, retry_at), (1, Some(t(62))));
    let (third, retry_at, state) = state.admit(&c, 1, t(119));
    assert_eq!((third, retry_at), (0, Some(t(120))));
    assert_eq!(
        state,
        CircuitState::HalfOpen {
            open_since: t(0),
            since: t(60),
            admitted: 3,
            successes: 0
        }
    );
}

#[test]
fn a_stalled_half_open_window_starts_afresh() {
    let c = cfg();
    // Three probes went out at t=60 and one came back; the other two were lost with a worker.
    let stalled = half_open(60, 3, 1);
    assert_eq!(
        stalled.admit(&c, 3, t(119)),
        (0, Some(t(120)), stalled.clone())
    );
    let (admitted, retry_at, fresh) = stalled.admit(&c, 5, t(120));
    assert_eq!((admitted, retry_at), (3, Some(t(121))));
    assert_eq!(fresh, half_open(120, 3, 1));
    // The success from the lost window still counts towards closing.
    assert_eq!(
        fresh.record_success(&c, t(121)),
        CircuitState::Closed { failures: 0 }
    );
}

#[test]
fn requests_beyond_the_probes_wait_for_their_answers_not_for_the_window_to_end() {
    let c = cfg();
    // The window opened at t=60 with its probes out: a turned-away request looks again a
    // second later, then as long again as the window has lasted, never past its end.
    let (_, retry_at, probing) = open_at(0).admit(&c, 4, t(60));
    assert_eq!(retry_at, Some(t(61)));
    let looks: Vec<_> = [61, 62, 64, 68, 76, 100]
        .into_iter()
        .map(|at| probing.admit(&c, 1, t(at)).1)
        .collect();
    assert_eq!(
        looks,
        [62, 64, 68, 76, 92, 120].map(|at| Some(t(at))).to_vec()
    );
    // The probes answered: the circuit closed and the request goes at its next look.
    let closed = probing.record_success(&c, t(60)).record_success(&c, t(60));
    assert_eq!(closed.admit(&c, 1, t(61)).0, 1);
}

#[test]
fn asking_for_nothing_changes_nothing() {
    for state in [CircuitState::default(), open_at(0), half_open(60, 3, 0)] {
        assert_eq!(state.admit(&cfg(), 0, t(1_000)), (0, None, state.clone()));
    }
}

#[test]
fn open_too_long_after_five_days() {
    let limit = TimeDelta::days(CircuitState::DISABLE_AFTER_OPEN_DAYS);
    let five_days = 5 * 86_400;
    assert!(!open_at(0).open_too_long(t(five_days - 1), limit));
    assert!(open_at(0).open_too_long(t(five_days), limit));
    // Flapping between open and half-open does not restart the clock.
    let flapping = half_open(five_days - 30, 1, 0).record_failure(&cfg(), t(five_days - 10));
    assert!(flapping.open_too_long(t(five_days), limit));
    assert!(!CircuitState::default().open_too_long(t(five_days * 100), limit));
    assert_eq!(CircuitState::default().open_since(), None);
    assert_eq!(half_open(60, 0, 0).open_since(), Some(t(0)));
}

#[test]
fn huge_timeouts_saturate() {
    let c = CircuitConfig {
        open_timeout_secs: u64::MAX,
        ..cfg()
    };
    assert_eq!(
        open_at(0).admit(&c, 1, t(0)),
        (0, Some(DateTime::<Utc>::MAX_UTC), open_at(0))
    );
}

#[test]
fn serializes_with_a_state_tag() {
    let json = serde_json::to_value(half_open(60, 2, 1)).unwrap();
    assert_eq!(json["state"], "half_open");
    assert_eq!(json["admitted"], 2);
    let back: CircuitState = serde_json::from_value(json).unwrap();
    assert_eq!(back, half_open(60, 2, 1));
    assert_eq!(
        serde_json::to_value(CircuitState::default()).unwrap(),
        serde_json::json!({"state": "closed", "failures": 0})
    );
}

#[derive(Debug, Clone)]
enum Op {
    Admit(u32),
    Success,
    Failure,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..6u32).prop_map(Op::Admit),
        Just(Op::Success),
        Just(Op::Failure)
    ]
}

fn any_config() -> impl Strategy<Value = CircuitConfig> {
    (0..8u32, 0..8u32, 0..200u64, 0..8u32).prop_map(|(f, s, o, h)| CircuitConfig {
        failure_threshold: f,
        success_threshold: s,
        open_timeout_secs: o,
        half_open_max_requests: h,
    })
}

proptest! {
    #[test]
    fn half_open_windows_never_exceed_their_budget(
        c in any_config().prop_filter("valid", |c| c.validate("").is_empty()),
        ops in prop::collection::vec((0..90i64, op()), 1..80),
    ) {
        let mut state = CircuitState::default();
        let mut now = 0i64;
        // The window being counted (its `since`) and what it has admitted so far.
        let mut window: Option<(DateTime<Utc>, u32)> = None;
        for (step, op) in ops {
            now += step;
            state = match op {
                Op::Admit(n) => {
                    let was_closed = matches!(state, CircuitState::Closed { .. });
                    let (granted, retry_at, next) = state.admit(&c, n, t(now));
                    prop_assert!(granted <= n);
                    prop_assert_eq!(retry_at.is_none(), granted == n);
                    if let Some(at) = retry_at {
                        prop_assert!(at > t(now));
                    }
                    if was_closed {
                        prop_assert_eq!(granted, n);
                    }
                    if let CircuitState::HalfOpen { since, admitted, .. } = next {
                        let so_far = match window {
                            Some((s, count)) if s == since => count,
                            _ => 0,
                        };
                        let total = so_far + granted;
                        prop_assert!(total <= c.half_open_max_requests);
                        prop_assert_eq!(admitted, total);
                        window = Some((since, total));
                    }
                    next
                }
                Op::Success => state.record_success(&c, t(now)),
                Op::Failure => state.record_failure(&c, t(now)),
            };
            if let Some(since) = state.open_since() {
                prop_assert!(since <= t(now));
            }
        }
    }

    #[test]
    fn any_config_and_sequence_is_safe(
        c in any_config(),
        ops in prop::collection::vec((0..90i64, op()), 1..80),
    ) {
        let mut state = CircuitState::default();
        let mut now = 0i64;
        for (step, op) in ops {
            now += step;
            state = match op {
                Op::Admit(n) => state.admit(&c, n, t(now)).2,
                Op::Success => state.record_success(&c, t(now)),
                Op::Failure => state.record_failure(&c, t(now)),
            };
            let _ = (state.name(), state.open_too_long(t(now), TimeDelta::days(5)));
        }
    }
}
