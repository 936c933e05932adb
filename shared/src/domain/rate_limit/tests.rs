//! Tests for the token bucket: refill, takes, waits and their invariants.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    t0() + TimeDelta::milliseconds(ms)
}

fn limit(rps: f64, burst: u32) -> RateLimit {
    RateLimit {
        requests_per_second: rps,
        burst_size: burst,
    }
}

fn bucket(tokens: f64, ms: i64) -> TokenBucket {
    TokenBucket {
        tokens,
        updated_at: at_ms(ms),
    }
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn validation_reports_every_problem() {
    assert!(limit(10.0, 20).validate("rate_limit").is_empty());
    assert!(limit(10_000.0, 10_000).validate("rate_limit").is_empty());
    assert!(limit(0.001, 1).validate("rate_limit").is_empty());
    assert_eq!(
        fields(&limit(0.0, 0).validate("rate_limit")),
        ["rate_limit.requests_per_second", "rate_limit.burst_size"]
    );
    for rate in [f64::NAN, f64::INFINITY, -1.0, 10_000.5] {
        assert_eq!(
            fields(&limit(rate, 1).validate("")),
            ["requests_per_second"],
            "{rate}"
        );
    }
    assert_eq!(fields(&limit(1.0, 10_001).validate("")), ["burst_size"]);
}

#[test]
fn refills_at_the_rate_up_to_the_burst() {
    let l = limit(10.0, 20);
    assert_eq!(TokenBucket::full(&l, t0()), bucket(20.0, 0));
    assert_eq!(bucket(0.0, 0).refilled(&l, at_ms(250)), bucket(2.5, 250));
    assert_eq!(
        bucket(15.0, 0).refilled(&l, at_ms(60_000)),
        bucket(20.0, 60_000)
    );
    // A lowered burst trims a stored level even with no time elapsed.
    assert_eq!(
        bucket(15.0, 0).refilled(&limit(10.0, 5), at_ms(0)),
        bucket(5.0, 0)
    );
}

#[test]
fn time_going_backwards_adds_nothing() {
    let l = limit(10.0, 20);
    assert_eq!(bucket(3.0, 1000).refilled(&l, at_ms(0)), bucket(3.0, 1000));
    // Nor does the time between the skewed `now` and `updated_at` count later.
    assert_eq!(
        bucket(3.0, 1000).refilled(&l, at_ms(1100)),
        bucket(4.0, 1100)
    );
}

#[test]
fn corrupt_levels_are_brought_back_in_range() {
    let l = limit(10.0, 20);
    assert_eq!(bucket(-5.0, 0).refilled(&l, at_ms(0)).tokens, 0.0);
    assert_eq!(bucket(f64::NAN, 0).refilled(&l, at_ms(0)).tokens, 0.0);
    assert_eq!(bucket(f64::INFINITY, 0).refilled(&l, at_ms(0)).tokens, 20.0);
}

#[test]
fn try_take_takes_or_says_how_long() {
    let l = limit(10.0, 20);
    assert_eq!(bucket(5.0, 0).try_take(&l, 3, at_ms(0)), Ok(bucket(2.0, 0)));
    assert_eq!(
        bucket(5.0, 0).try_take(&l, 0, at_ms(100)),
        Ok(bucket(6.0, 100))
    );
    assert_eq!(
        bucket(0.0, 0).try_take(&l, 1, at_ms(0)),
        Err(Duration::from_millis(100))
    );
    assert_eq!(
        bucket(0.5, 0).try_take(&l, 2, at_ms(0)),
        Err(Duration::from_millis(150))
    );
    // More than the burst: the wait is for a full bucket, after which it still cannot go.
    assert_eq!(
        bucket(0.0, 0).try_take(&l, 50, at_ms(0)),
        Err(Duration::from_secs(2))
    );
    assert!(bucket(20.0, 0).try_take(&l, 21, at_ms(0)).is_err());
}

#[test]
fn take_up_to_grants_whole_tokens_only() {
    let l = limit(10.0, 20);
    assert_eq!(
        bucket(5.7, 0).take_up_to(&l, 10, at_ms(0)),
        (5, bucket(5.7 - 5.0, 0))
    );
    assert_eq!(
        bucket(5.7, 0).take_up_to(&l, 3, at_ms(0)),
        (3, bucket(5.7 - 3.0, 0))
    );
    assert_eq!(
        bucket(0.9, 0).take_up_to(&l, 3, at_ms(0)),
        (0, bucket(0.9, 0))
    );
    assert_eq!(
        bucket(0.0, 0).take_up_to(&l, 30, at_ms(60_000)),
        (20, bucket(0.0, 60_000))
    );
}

#[test]
fn time_until_is_measured_from_now() {
    let l = limit(4.0, 8);
    assert_eq!(bucket(8.0, 0).time_until(&l, 8, at_ms(0)), Duration::ZERO);
    assert_eq!(
        bucket(0.0, 0).time_until(&l, 1, at_ms(100)),
        Duration::from_millis(150)
    );
    assert_eq!(
        bucket(0.0, 0).time_until(&l, 100, at_ms(0)),
        Duration::from_secs(2)
    );
    // updated_at ahead of now (clock skew): the refill only starts at updated_at.
    assert_eq!(
        bucket(0.0, 1000).time_until(&l, 1, at_ms(0)),
        Duration::from_millis(1250)
    );
    // 1/3 s rounds up to the next millisecond.
    assert_eq!(
        bucket(0.0, 0).time_until(&limit(3.0, 3), 1, at_ms(0)),
        Duration::from_millis(334)
    );
}

#[test]
fn time_until_absorbs_float_rounding() {
    // 0.1 + 0.09 s × 10/s comes out as 0.9999999999999999 in floats: 90 ms is not enough.
    let (l, b) = (limit(10.0, 1), bucket(0.1, 0));
    assert!(b.try_take(&l, 1, at_ms(90)).is_err());
    let wait = b.time_until(&l, 1, at_ms(0));
    assert_eq!(wait, Duration::from_millis(91));
    assert!(b.try_take(&l, 1, at_ms(91)).is_ok());
}

#[test]
fn a_limit_that_never_refills_waits_forever() {
    for rate in [0.0, -1.0, f64::NAN] {
        assert_eq!(
            bucket(0.0, 0).time_until(&limit(rate, 5), 1, at_ms(0)),
            Duration::MAX
        );
    }
    assert_eq!(
        bucket(0.0, 0).time_until(&limit(1e-300, 5), 1, at_ms(0)),
        Duration::MAX
    );
}

#[derive(Debug, Clone)]
enum Op {
    Take(u32),
    TakeUpTo(u32),
    Refill,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..40u32).prop_map(Op::Take),
        (0..40u32).prop_map(Op::TakeUpTo),
        Just(Op::Refill)
    ]
}

fn valid_limit() -> impl Strategy<Value = RateLimit> {
    (0.01..=10_000.0f64, 1..=10_000u32).prop_map(|(rps, burst)| limit(rps, burst))
}

/// Round rates and levels in tenths, where float rounding bites hardest.
fn round_limit() -> impl Strategy<Value = RateLimit> {
    (1..=1000u32, 1..=100u32).prop_map(|(tenths, burst)| limit(f64::from(tenths) / 10.0, burst))
}

fn level() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..=10_000.0f64,
        (0..=1000u32).prop_map(|tenths| f64::from(tenths) / 10.0)
    ]
}

proptest! {
    #[test]
    fn level_stays_within_the_bucket_and_grants_within_the_rate(
        l in valid_limit(),
        ops in prop::collection::vec((0..5_000i64, op()), 1..60),
    ) {
        let mut b = TokenBucket::full(&l, t0());
        let (mut now_ms, mut granted) = (0i64, 0u64);
        for (step_ms, op) in ops {
            now_ms += step_ms;
            let now = at_ms(now_ms);
            b = match op {
                Op::Take(n) => match b.try_take(&l, n, now) {
                    Ok(next) => { granted += u64::from(n); next }
                    Err(_) => b,
                },
                Op::TakeUpTo(n) => {
                    let (got, next) = b.take_up_to(&l, n, now);
                    prop_assert!(got <= n);
                    granted += u64::from(got);
                    next
                }
                Op::Refill => b.refilled(&l, now),
            };
            prop_assert!(b.tokens >= 0.0 && b.tokens <= f64::from(l.burst_size), "{:?}", b);
            let allowance = f64::from(l.burst_size) + l.requests_per_second * (now_ms as f64 / 1000.0);
            prop_assert!(granted as f64 <= allowance + 1e-6, "granted {} > {}", granted, allowance);
        }
    }

    #[test]
    fn updated_at_never_moves_backwards(
        l in valid_limit(), tokens in -10.0..20_000.0f64,
        times in prop::collection::vec(-100_000..100_000i64, 1..20),
    ) {
        let mut b = bucket(tokens, 0);
        for ms in times {
            let next = b.refilled(&l, at_ms(ms));
            prop_assert!(next.updated_at >= b.updated_at);
            prop_assert!(next.tokens >= 0.0 && next.tokens <= f64::from(l.burst_size));
            b = next;
        }
    }

    #[test]
    fn waiting_time_until_is_enough(
        l in prop_oneof![valid_limit(), round_limit()], tokens in level(), n in 0..=10_000u32,
        updated_ms in -5_000..5_000i64,
    ) {
        let n = n.min(l.burst_size);
        let b = bucket(tokens.min(f64::from(l.burst_size)), updated_ms);
        let wait = b.time_until(&l, n, t0());
        let then = t0() + TimeDelta::from_std(wait).unwrap();
        prop_assert!(b.try_take(&l, n, then).is_ok(), "wait {:?} not enough", wait);
        if wait > Duration::ZERO {
            prop_assert!(b.try_take(&l, n, t0()).is_err());
        }
    }
}
