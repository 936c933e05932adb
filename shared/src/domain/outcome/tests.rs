//! Tests for outcome classification and the retry decision.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn response(status: u16, retry_after: Option<&str>) -> AttemptResult {
    AttemptResult::Response {
        status,
        retry_after: retry_after.map(str::to_owned),
        snippet: None,
    }
}

fn retryable(retry_after: Option<Duration>) -> Verdict {
    Verdict::Retryable { retry_after }
}

#[test]
fn every_2xx_is_delivered() {
    for status in [200, 201, 202, 204, 299] {
        assert_eq!(
            classify(&response(status, None), now()),
            Verdict::Delivered,
            "{status}"
        );
    }
}

#[test]
fn gone_is_final() {
    assert_eq!(classify(&response(410, Some("5")), now()), Verdict::Gone);
}

#[test]
fn other_statuses_retry_without_a_hint() {
    // Redirects are failures like any other: they are never followed.
    for status in [
        0, 100, 101, 199, 300, 301, 302, 304, 307, 308, 400, 401, 403, 404, 409, 413, 500, 502,
        504, 599, 999,
    ] {
        assert_eq!(
            classify(&response(status, Some("120")), now()),
            retryable(None),
            "{status}"
        );
    }
}

#[test]
fn retry_after_counts_on_429_and_503_only() {
    assert_eq!(
        classify(&response(429, Some("120")), now()),
        retryable(Some(secs(120)))
    );
    assert_eq!(
        classify(&response(503, Some("Wed, 21 Oct 2015 07:28:00 GMT")), now()),
        retryable(Some(secs(60)))
    );
    assert_eq!(classify(&response(429, None), now()), retryable(None));
    assert_eq!(
        classify(&response(503, Some("later, please")), now()),
        retryable(None)
    );
}

#[test]
fn transport_failures() {
    let forbidden = AttemptResult::Transport(TransportFailure::Forbidden("10.0.0.1".into()));
    assert_eq!(classify(&forbidden, now()), Verdict::Forbidden);
    for failure in [
        TransportFailure::Timeout,
        TransportFailure::Connect("refused".into()),
        TransportFailure::Reset("reset by peer".into()),
        TransportFailure::Other("tls".into()),
    ] {
        assert_eq!(
            classify(&AttemptResult::Transport(failure), now()),
            retryable(None)
        );
    }
}

#[test]
fn only_delivered_counts_as_success() {
    assert!(Verdict::Delivered.is_success());
    assert!(!Verdict::Gone.is_success());
    assert!(!Verdict::Forbidden.is_success());
    assert!(!retryable(Some(secs(1))).is_success());
}

#[test]
fn retry_after_delta_seconds() {
    assert_eq!(parse_retry_after("120", now()), Some(secs(120)));
    assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("604800", now()), Some(MAX_RETRY_AFTER));
    assert_eq!(parse_retry_after("604801", now()), Some(MAX_RETRY_AFTER));
    assert_eq!(
        parse_retry_after("99999999999999999999999999", now()),
        Some(MAX_RETRY_AFTER)
    );
    for garbage in ["", " ", "-1", "+5", "1.5", "1e3", "soon", "12 s", "0x10"] {
        assert_eq!(parse_retry_after(garbage, now()), None, "{garbage:?}");
    }
}

#[test]
fn retry_after_http_dates() {
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
        Some(secs(60))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
        Some(Duration::ZERO)
    );
    assert_eq!(
        parse_retry_after("Thu, 01 Jan 2099 00:00:00 GMT", now()),
        Some(MAX_RETRY_AFTER)
    );
    // The obsolete forms RFC 9110 still requires recipients to accept.
    assert_eq!(
        parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now()),
        Some(secs(120))
    );
    assert_eq!(
        parse_retry_after("Wed Oct 21 07:30:00 2015", now()),
        Some(secs(180))
    );
    assert_eq!(
        parse_retry_after("Sun Nov  6 08:49:37 1994", now()),
        Some(Duration::ZERO)
    );
    assert_eq!(
        parse_retry_after("Wed, 32 Oct 2015 07:28:00 GMT", now()),
        None
    );
}

#[test]
fn decide_final_verdicts() {
    let policy = RetryPolicy::default();
    assert_eq!(
        decide(Verdict::Delivered, &policy, 1, Jitter::NONE),
        Decision::Delivered
    );
    assert_eq!(
        decide(Verdict::Gone, &policy, 1, Jitter::NONE),
        Decision::GiveUp(FailureReason::Gone)
    );
    assert_eq!(
        decide(Verdict::Forbidden, &policy, 1, Jitter::NONE),
        Decision::GiveUp(FailureReason::Forbidden)
    );
}

#[test]
fn decide_follows_the_schedule_until_exhausted() {
    let policy = RetryPolicy::default();
    assert_eq!(
        decide(retryable(None), &policy, 1, Jitter::NONE),
        Decision::RetryIn(secs(5))
    );
    assert_eq!(
        decide(retryable(None), &policy, 1, Jitter::from_unit(1.0)),
        Decision::RetryIn(secs(6))
    );
    assert_eq!(
        decide(retryable(None), &policy, 9, Jitter::NONE),
        Decision::RetryIn(secs(86_400))
    );
    assert_eq!(
        decide(retryable(Some(secs(1))), &policy, 10, Jitter::NONE),
        Decision::GiveUp(FailureReason::Exhausted)
    );
}

#[test]
fn decide_clamps_retry_after_around_the_jittered_delay() {
    let policy = RetryPolicy::default();
    let retry =
        |asked: u64, jitter: Jitter| decide(retryable(Some(secs(asked))), &policy, 1, jitter);
    assert_eq!(retry(7, Jitter::NONE), Decision::RetryIn(secs(7)));
    assert_eq!(retry(1, Jitter::NONE), Decision::RetryIn(secs(5)));
    assert_eq!(retry(3600, Jitter::NONE), Decision::RetryIn(secs(10)));
    assert_eq!(
        retry(3600, Jitter::from_unit(0.0)),
        Decision::RetryIn(secs(8))
    );
    let from_date = classify(&response(503, Some("Wed, 21 Oct 2015 07:27:08 GMT")), now());
    assert_eq!(
        decide(from_date, &policy, 1, Jitter::NONE),
        Decision::RetryIn(secs(8))
    );
}

proptest! {
    #[test]
    fn parse_never_panics_and_stays_capped(value in "\\PC{0,40}", offset in -1_000_000i64..1_000_000) {
        let now = now() + chrono::Duration::seconds(offset);
        if let Some(wait) = parse_retry_after(&value, now) {
            prop_assert!(wait <= MAX_RETRY_AFTER);
        }
    }

    #[test]
    fn a_retry_lands_between_the_delay_and_twice_it(
        asked in proptest::option::of(0..1_000_000u64), made in 0..=12u32, u in 0.0..=1.0f64,
    ) {
        let policy = RetryPolicy::default();
        let jitter = Jitter::from_unit(u);
        let decision = decide(retryable(asked.map(secs)), &policy, made, jitter);
        match policy.next_delay(made, jitter) {
            None => prop_assert_eq!(decision, Decision::GiveUp(FailureReason::Exhausted)),
            Some(delay) => match decision {
                Decision::RetryIn(wait) => prop_assert!(wait >= delay && wait <= delay * 2),
                other => prop_assert!(false, "unexpected {:?}", other),
            },
        }
    }
}
