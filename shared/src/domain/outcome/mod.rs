//! What an HTTP attempt's result means (docs/architecture.md §3.5): delivered, gone, retry later or
//! refused, and from that and the retry policy, what to do next.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::retry::{clamp_retry_after, Jitter, RetryPolicy};

/// The longest `Retry-After` taken at face value; a receiver asking for more gets a week
/// (before the schedule clamps it further).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The obsolete HTTP-date forms that RFC 9110 §5.6.7 still obliges recipients to accept:
/// RFC 850 and asctime. The preferred IMF-fixdate is RFC 2822-compatible.
const OBSOLETE_HTTP_DATE_FORMATS: [&str; 2] = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"];

/// What came back from one attempt, as the sender saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Response {
        status: u16,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<String>,
        /// The first bytes of the response body (lossy UTF-8), for failure records.
        snippet: Option<String>,
    },
    Transport(TransportFailure),
}

/// Why an attempt got no HTTP response to classify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    Timeout,
    Connect(String),
    /// The connection broke mid-exchange (reset, truncated body).
    Reset(String),
    /// The destination resolved to an address this deployment may not call (SSRF guard),
    /// or the endpoint answered with a redirect, which is never followed.
    Forbidden(String),
    Other(String),
}

/// Why a delivery was finally given up on; stored with every failure record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The retry schedule ran out.
    Exhausted,
    /// The endpoint answered 410 Gone and was disabled.
    Gone,
    /// The destination is not allowed (private address, redirect).
    Forbidden,
    /// The endpoint was deleted or disabled while the job waited.
    EndpointUnavailable,
    /// The circuit stayed open for too long and the endpoint was disabled.
    CircuitDisabled,
    /// SQS moved the message to the DLQ itself (poison message, crash loop).
    Redriven,
    /// The endpoint's transformation threw, ran past a limit or answered something
    /// unusable (§3.17): nothing was sent, and the same script would fail the same way.
    TransformFailed,
}

impl FailureReason {
    /// The stored and displayed name, the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exhausted => "exhausted",
            Self::Gone => "gone",
            Self::Forbidden => "forbidden",
            Self::EndpointUnavailable => "endpoint_unavailable",
            Self::CircuitDisabled => "circuit_disabled",
            Self::Redriven => "redriven",
            Self::TransformFailed => "transform_failed",
        }
    }
}

/// The meaning of one attempt's result, before the retry policy is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Gone,
    Forbidden,
    /// Try again; `retry_after` is the receiver's own hint (429/503 only).
    Retryable {
        retry_after: Option<Duration>,
    },
}

/// What to do with a job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    RetryIn(Duration),
    GiveUp(FailureReason),
}

impl Verdict {
    /// Whether the circuit breaker counts this attempt as a success; anything short of
    /// delivery counts against the endpoint.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Delivered)
    }
}

/// Reads a `Retry-After` value: delta-seconds or an HTTP-date. A date already past means
/// "now" (`Some(ZERO)`); values beyond [`MAX_RETRY_AFTER`] are capped; anything else
/// (negative or fractional numbers, free text) is `None`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still a well-formed, merely absurd, delay.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let date = parse_http_date(value)?;
    let wait = date
        .signed_duration_since(now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    OBSOLETE_HTTP_DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|date| date.and_utc())
}

/// What an attempt's result means (docs/architecture.md §3.5). Only 429 and 503 carry a usable
/// `Retry-After`; redirects are never followed, so a 3xx is just another failure.
pub fn classify(result: &AttemptResult, now: DateTime<Utc>) -> Verdict {
    match result {
        AttemptResult::Response {
            status,
            retry_after,
            ..
        } => match status {
            200..=299 => Verdict::Delivered,
            410 => Verdict::Gone,
            429 | 503 => Verdict::Retryable {
                retry_after: retry_after
                    .as_deref()
                    .and_then(|value| parse_retry_after(value, now)),
            },
            _ => Verdict::Retryable { retry_after: None },
        },
        AttemptResult::Transport(TransportFailure::Forbidden(_)) => Verdict::Forbidden,
        AttemptResult::Transport(_) => Verdict::Retryable { retry_after: None },
    }
}

/// What to do after an attempt, given its verdict and the `attempts_made` so far (this one
/// included). A receiver's `Retry-After` can stretch the jittered delay up to twice, never
/// shorten it.
pub fn decide(
    verdict: Verdict,
    policy: &RetryPolicy,
    attempts_made: u32,
    jitter: Jitter,
) -> Decision {
    match verdict {
        Verdict::Delivered => Decision::Delivered,
        Verdict::Gone => Decision::GiveUp(FailureReason::Gone),
        Verdict::Forbidden => Decision::GiveUp(FailureReason::Forbidden),
        Verdict::Retryable { retry_after } => match policy.next_delay(attempts_made, jitter) {
            None => Decision::GiveUp(FailureReason::Exhausted),
            Some(delay) => Decision::RetryIn(
                retry_after.map_or(delay, |asked| clamp_retry_after(delay, asked)),
            ),
        },
    }
}

#[cfg(test)]
mod tests;
