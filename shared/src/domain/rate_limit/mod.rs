//! Token-bucket arithmetic for per-endpoint rate limits.
//!
//! The bucket is a value refilled lazily from its timestamp, so the worker can read it, take
//! tokens for a whole batch and store it back with one conditional write.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{field_path, FieldError};

const MAX_REQUESTS_PER_SECOND: f64 = 10_000.0;
const MAX_BURST_SIZE: u32 = 10_000;

/// How many extra milliseconds [`TokenBucket::time_until`] may add to absorb float
/// rounding; one is always enough in practice, the rest is margin.
const MAX_ROUNDING_STEPS: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst_size: u32,
}

impl RateLimit {
    /// Every rule the limit breaks, with paths under `field` (e.g. `rate_limit.burst_size`).
    pub fn validate(&self, field: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let rate = self.requests_per_second;
        let rate_ok = rate.is_finite() && rate > 0.0 && rate <= MAX_REQUESTS_PER_SECOND;
        if !rate_ok {
            errors.push(FieldError::new(
                field_path(field, "requests_per_second"),
                format!("must be a number greater than 0 and at most {MAX_REQUESTS_PER_SECOND}"),
            ));
        }
        if !(1..=MAX_BURST_SIZE).contains(&self.burst_size) {
            errors.push(FieldError::new(
                field_path(field, "burst_size"),
                format!("must be between 1 and {MAX_BURST_SIZE}"),
            ));
        }
        errors
    }

    fn capacity(&self) -> f64 {
        f64::from(self.burst_size)
    }
}

/// The bucket's level at `updated_at`; refilled lazily on every take.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenBucket {
    pub tokens: f64,
    pub updated_at: DateTime<Utc>,
}

impl TokenBucket {
    /// A bucket holding its whole burst, as for an endpoint never sent to before.
    pub fn full(limit: &RateLimit, now: DateTime<Utc>) -> Self {
        Self {
            tokens: limit.capacity(),
            updated_at: now,
        }
    }

    /// The bucket as of `now`: `requests_per_second` tokens per elapsed second, up to
    /// `burst_size`. Workers' clocks disagree, so a `now` before `updated_at` adds nothing
    /// and leaves `updated_at` where it is; otherwise that time would be refilled twice.
    /// The level is also brought within `[0, burst_size]`, which matters when the limit was
    /// lowered since the bucket was stored.
    pub fn refilled(&self, limit: &RateLimit, now: DateTime<Utc>) -> Self {
        let elapsed = now
            .signed_duration_since(self.updated_at)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let gained = elapsed.as_secs_f64() * limit.requests_per_second;
        Self {
            tokens: bounded(self.tokens + gained, limit.capacity()),
            updated_at: self.updated_at.max(now),
        }
    }

    /// Takes `n` tokens at once, or says how long until they will be there.
    ///
    /// More than `burst_size` can never be taken at once: the error is then the wait until
    /// the bucket is full, and the caller should take in parts with
    /// [`take_up_to`](Self::take_up_to).
    pub fn try_take(
        &self,
        limit: &RateLimit,
        n: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, Duration> {
        let bucket = self.refilled(limit, now);
        let wanted = f64::from(n);
        if bucket.tokens >= wanted {
            Ok(Self {
                tokens: bucket.tokens - wanted,
                ..bucket
            })
        } else {
            Err(self.time_until(limit, n, now))
        }
    }

    /// Takes as many whole tokens as there are, up to `n`, so that one conditional write
    /// can cover a whole batch. Returns how many were granted and the bucket after.
    pub fn take_up_to(&self, limit: &RateLimit, n: u32, now: DateTime<Utc>) -> (u32, Self) {
        let bucket = self.refilled(limit, now);
        // `tokens` is within [0, burst_size] after a refill, so its whole part fits a u32.
        let whole = bucket.tokens.floor() as u32;
        let granted = n.min(whole);
        let after = Self {
            tokens: bucket.tokens - f64::from(granted),
            ..bucket
        };
        (granted, after)
    }

    /// How long from `now` until `n` tokens (at most `burst_size`) are there: zero if they
    /// already are, rounded up to the millisecond, and [`Duration::MAX`] if the limit's
    /// rate is not positive so the bucket never refills.
    pub fn time_until(&self, limit: &RateLimit, n: u32, now: DateTime<Utc>) -> Duration {
        let bucket = self.refilled(limit, now);
        let wanted = f64::from(n.min(limit.burst_size));
        if bucket.tokens >= wanted {
            return Duration::ZERO;
        }
        let rate = limit.requests_per_second;
        if !(rate.is_finite() && rate > 0.0) {
            return Duration::MAX;
        }
        let Ok(refill) = Duration::try_from_secs_f64((wanted - bucket.tokens) / rate) else {
            return Duration::MAX;
        };
        // A skewed clock may have left `updated_at` ahead of `now`; refilling starts there.
        let head_start = bucket
            .updated_at
            .signed_duration_since(now)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let mut wait = ceil_to_millis(head_start.saturating_add(refill));
        // The float refill at exactly `now + wait` can still come out a hair short, so step
        // forward until the refill itself agrees: waiting `wait` must always be enough.
        for _ in 0..MAX_ROUNDING_STEPS {
            let short =
                at(now, wait).is_some_and(|then| self.refilled(limit, then).tokens < wanted);
            if !short {
                break;
            }
            wait = wait.saturating_add(Duration::from_millis(1));
        }
        wait
    }
}

/// Keeps a level within `[0, capacity]`; a NaN level (a corrupt item, an unvalidated rate)
/// counts as empty, erring towards holding deliveries back.
fn bounded(tokens: f64, capacity: f64) -> f64 {
    if tokens.is_nan() {
        0.0
    } else {
        tokens.clamp(0.0, capacity)
    }
}

fn ceil_to_millis(d: Duration) -> Duration {
    let millis = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

fn at(now: DateTime<Utc>, wait: Duration) -> Option<DateTime<Utc>> {
    now.checked_add_signed(TimeDelta::from_std(wait).ok()?)
}

#[cfg(test)]
mod tests;
