//! Tests for retry timing: the default schedule, backoff, jitter and Retry-After clamping.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn exponential(initial: u64, multiplier: f64, max: u64, retries: u32) -> RetryPolicy {
    RetryPolicy::Exponential {
        initial_delay_ms: initial,
        backoff_multiplier: multiplier,
        max_delay_ms: max,
        max_retries: retries,
    }
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn default_is_the_standard_webhooks_schedule() {
    let policy = RetryPolicy::default();
    assert!(policy.validate("retry").is_empty());
    assert_eq!(policy.max_retries(), 9);
    assert_eq!(policy.next_delay(0, Jitter::NONE), Some(Duration::ZERO));
    let expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
    for (made, want) in (1..).zip(expected) {
        assert_eq!(
            policy.base_delay(made),
            Some(secs(want)),
            "after {made} attempts"
        );
        assert_eq!(policy.next_delay(made, Jitter::NONE), Some(secs(want)));
    }
    assert_eq!(policy.next_delay(10, Jitter::NONE), None);
    assert_eq!(policy.next_delay(u32::MAX, Jitter::NONE), None);
}

#[test]
fn both_forms_parse_from_the_design_json() {
    let schedule: RetryPolicy = serde_json::from_str(
        r#"{"schedule_secs": [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]}"#,
    )
    .unwrap();
    assert_eq!(schedule, RetryPolicy::default());
    let exp: RetryPolicy = serde_json::from_str(
        r#"{"initial_delay_ms": 1000, "backoff_multiplier": 2.0, "max_delay_ms": 60000, "max_retries": 5}"#,
    )
    .unwrap();
    assert_eq!(exp, exponential(1000, 2.0, 60_000, 5));
    assert!(serde_json::from_str::<RetryPolicy>(r#"{"schedule_secs": [5], "extra": 1}"#).is_err());
}

#[test]
fn exponential_grows_then_caps() {
    let policy = exponential(1000, 3.0, 10_000, 5);
    let delays: Vec<_> = (1..=6)
        .map(|n| policy.next_delay(n, Jitter::NONE))
        .collect();
    assert_eq!(
        delays,
        [
            Some(ms(1000)),
            Some(ms(3000)),
            Some(ms(9000)),
            Some(ms(10_000)),
            Some(ms(10_000)),
            None
        ]
    );
    // 1000 × 1.1³ = 1331.000…; millisecond resolution hides the float noise.
    assert_eq!(
        exponential(1000, 1.1, 60_000, 5).base_delay(4),
        Some(ms(1331))
    );
}

#[test]
fn zero_max_retries_means_one_attempt() {
    let policy = exponential(1000, 2.0, 1000, 0);
    assert_eq!(policy.next_delay(0, Jitter::NONE), Some(Duration::ZERO));
    assert_eq!(policy.next_delay(1, Jitter::NONE), None);
}

#[test]
fn jitter_maps_the_unit_interval_onto_plus_minus_twenty_percent() {
    assert_eq!(Jitter::from_unit(0.0).factor(), 0.8);
    assert_eq!(Jitter::from_unit(0.5).factor(), 1.0);
    assert_eq!(Jitter::from_unit(1.0).factor(), 1.2);
    assert_eq!(Jitter::from_unit(-3.0), Jitter::from_unit(0.0));
    assert_eq!(Jitter::from_unit(7.0), Jitter::from_unit(1.0));
    assert_eq!(Jitter::from_unit(f64::NAN), Jitter::NONE);
    assert_eq!(Jitter::from_unit(f64::INFINITY), Jitter::from_unit(1.0));

    let policy = RetryPolicy::default();
    assert_eq!(policy.next_delay(1, Jitter::from_unit(0.0)), Some(secs(4)));
    assert_eq!(policy.next_delay(1, Jitter::from_unit(1.0)), Some(secs(6)));
}

#[test]
fn exponential_cap_holds_after_jitter() {
    let policy = exponential(1000, 2.0, 3000, 5);
    assert_eq!(policy.next_delay(3, Jitter::from_unit(1.0)), Some(ms(3000)));
    assert_eq!(policy.next_delay(3, Jitter::from_unit(0.0)), Some(ms(2400)));
    // Below the cap, jitter still applies upwards.
    assert_eq!(policy.next_delay(1, Jitter::from_unit(1.0)), Some(ms(1200)));
}

#[test]
fn huge_inputs_saturate_instead_of_panicking() {
    let policy = exponential(u64::MAX, 10.0, u64::MAX, u32::MAX);
    assert_eq!(
        policy.next_delay(u32::MAX, Jitter::from_unit(1.0)),
        Some(ms(u64::MAX))
    );
    let capped = exponential(1000, 10.0, 5000, u32::MAX);
    assert_eq!(capped.next_delay(u32::MAX, Jitter::NONE), Some(ms(5000)));
    let unvalidated = exponential(1000, f64::NAN, 5000, 3);
    assert!(unvalidated.next_delay(2, Jitter::NONE).is_some());
    let schedule = RetryPolicy::Schedule {
        schedule_secs: vec![u64::MAX],
    };
    assert!(schedule.next_delay(1, Jitter::from_unit(1.0)).is_some());
}

#[test]
fn clamp_keeps_retry_after_between_the_schedule_and_twice_it() {
    assert_eq!(clamp_retry_after(secs(10), secs(5)), secs(10));
    assert_eq!(clamp_retry_after(secs(10), secs(15)), secs(15));
    assert_eq!(clamp_retry_after(secs(10), secs(60)), secs(20));
    assert_eq!(clamp_retry_after(Duration::ZERO, secs(60)), Duration::ZERO);
    assert_eq!(clamp_retry_after(Duration::MAX, secs(1)), Duration::MAX);
}

#[test]
fn schedule_validation_reports_every_problem() {
    let policy = RetryPolicy::Schedule {
        schedule_secs: vec![10, 5, 700_000, 600_000],
    };
    let errors = policy.validate("retry");
    assert_eq!(
        fields(&errors),
        [
            "retry.schedule_secs[1]",
            "retry.schedule_secs[2]",
            "retry.schedule_secs[3]"
        ]
    );

    let empty = RetryPolicy::Schedule {
        schedule_secs: vec![],
    };
    assert_eq!(fields(&empty.validate("")), ["schedule_secs"]);
    let long = RetryPolicy::Schedule {
        schedule_secs: vec![1; 21],
    };
    assert_eq!(fields(&long.validate("retry")), ["retry.schedule_secs"]);
    let twenty = RetryPolicy::Schedule {
        schedule_secs: vec![0; 20],
    };
    assert!(twenty.validate("retry").is_empty());
}

#[test]
fn exponential_validation_reports_every_problem() {
    let all_bad = exponential(0, f64::NAN, 700_000_000, 21);
    assert_eq!(
        fields(&all_bad.validate("retry")),
        [
            "retry.initial_delay_ms",
            "retry.backoff_multiplier",
            "retry.max_delay_ms",
            "retry.max_retries"
        ]
    );
    assert_eq!(
        fields(&exponential(5000, 0.5, 4000, 3).validate("retry")),
        ["retry.backoff_multiplier", "retry.max_delay_ms"]
    );
    assert_eq!(
        fields(&exponential(1, f64::INFINITY, 1, 0).validate("r")),
        ["r.backoff_multiplier"]
    );
    assert_eq!(
        fields(&exponential(86_400_001, 1.0, 86_400_001, 0).validate("r")),
        ["r.initial_delay_ms"]
    );
    assert!(exponential(1, 1.0, 1, 0).validate("r").is_empty());
    assert!(exponential(86_400_000, 10.0, 604_800_000, 20)
        .validate("r")
        .is_empty());
}

fn valid_policy() -> impl Strategy<Value = RetryPolicy> {
    let schedule = prop::collection::vec(0..=604_800u64, 1..=20).prop_map(|mut s| {
        s.sort_unstable();
        RetryPolicy::Schedule { schedule_secs: s }
    });
    let exp =
        (1..=86_400_000u64, 1.0..=10.0f64, 0..=20u32).prop_flat_map(|(initial, mult, retries)| {
            (initial..=604_800_000u64).prop_map(move |max| exponential(initial, mult, max, retries))
        });
    prop_oneof![schedule, exp]
}

fn jitter() -> impl Strategy<Value = Jitter> {
    (0.0..=1.0f64).prop_map(Jitter::from_unit)
}

proptest! {
    #[test]
    fn delays_never_decrease(policy in valid_policy(), jitter in jitter()) {
        prop_assert!(policy.validate("retry").is_empty());
        let delays: Vec<_> = (0..=policy.max_retries())
            .map(|n| policy.next_delay(n, jitter).unwrap())
            .collect();
        for pair in delays.windows(2) {
            prop_assert!(pair[0] <= pair[1], "{:?}", delays);
        }
    }

    #[test]
    fn exponential_never_exceeds_its_cap(
        policy in valid_policy(), jitter in jitter(), made in 0..=25u32,
    ) {
        if let (RetryPolicy::Exponential { max_delay_ms, .. }, Some(d)) =
            (&policy, policy.next_delay(made, jitter))
        {
            prop_assert!(d <= ms(*max_delay_ms));
        }
    }

    #[test]
    fn jitter_stays_within_twenty_percent(
        policy in valid_policy(), jitter in jitter(), made in 0..=20u32,
    ) {
        if let (Some(base), Some(d)) = (policy.base_delay(made), policy.next_delay(made, jitter)) {
            let (base, d) = (base.as_millis() as f64, d.as_millis() as f64);
            // Half a millisecond of rounding either way.
            prop_assert!(d >= base * 0.8 - 0.5 && d <= base * 1.2 + 0.5, "base {base} got {d}");
        }
    }

    #[test]
    fn none_exactly_after_max_retries(policy in valid_policy(), jitter in jitter()) {
        let max = policy.max_retries();
        prop_assert!(policy.next_delay(max, jitter).is_some());
        prop_assert!(policy.next_delay(max + 1, jitter).is_none());
        prop_assert!(policy.next_delay(u32::MAX, jitter).is_none());
    }

    #[test]
    fn clamp_stays_within_bounds(scheduled in any::<u64>(), retry_after in any::<u64>()) {
        let (scheduled, retry_after) = (ms(scheduled), ms(retry_after));
        let clamped = clamp_retry_after(scheduled, retry_after);
        prop_assert!(clamped >= scheduled && clamped <= scheduled * 2);
        if retry_after >= scheduled && retry_after <= scheduled * 2 {
            prop_assert_eq!(clamped, retry_after);
        }
    }

    #[test]
    fn any_policy_and_attempt_is_safe(
        initial in any::<u64>(), mult in any::<f64>(), max in any::<u64>(),
        retries in any::<u32>(), made in any::<u32>(), u in any::<f64>(),
    ) {
        let policy = exponential(initial, mult, max, retries);
        let _ = policy.validate("retry");
        if let Some(d) = policy.next_delay(made, Jitter::from_unit(u)) {
            prop_assert!(d <= ms(max));
        }
    }
}
