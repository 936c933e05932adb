//! When to try again: the Standard Webhooks default schedule, exponential backoff, jitter
//! and Retry-After clamping (docs/architecture.md §3.5).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::validation::{field_path, FieldError};

/// Standard Webhooks' recommended delays before each retry: 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h, 14 h, 20 h, 24 h.
pub const DEFAULT_SCHEDULE_SECS: [u64; 9] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/// How far jitter may move a delay either way (±20 %).
pub const JITTER_FRACTION: f64 = 0.2;

const MAX_RETRIES: u32 = 20;
const MAX_SCHEDULE_DELAY_SECS: u64 = 7 * 24 * 60 * 60;
const MAX_INITIAL_DELAY_MS: u64 = 24 * 60 * 60 * 1000;
const MAX_DELAY_MS: u64 = MAX_SCHEDULE_DELAY_SECS * 1000;
const MIN_MULTIPLIER: f64 = 1.0;
const MAX_MULTIPLIER: f64 = 10.0;

/// An endpoint's retry policy. `Schedule` lists the delay before each retry; `Exponential`
/// grows from `initial_delay_ms` by `backoff_multiplier`, capped at `max_delay_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum RetryPolicy {
    Schedule {
        schedule_secs: Vec<u64>,
    },
    Exponential {
        initial_delay_ms: u64,
        backoff_multiplier: f64,
        max_delay_ms: u64,
        max_retries: u32,
    },
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::Schedule {
            schedule_secs: DEFAULT_SCHEDULE_SECS.to_vec(),
        }
    }
}

impl RetryPolicy {
    /// Every rule the policy breaks, with paths under `field` (e.g. `retry.schedule_secs[2]`).
    pub fn validate(&self, field: &str) -> Vec<FieldError> {
        match self {
            Self::Schedule { schedule_secs } => validate_schedule(schedule_secs, field),
            Self::Exponential {
                initial_delay_ms,
                backoff_multiplier,
                max_delay_ms,
                max_retries,
            } => {
                let mut errors = Vec::new();
                if !(1..=MAX_INITIAL_DELAY_MS).contains(initial_delay_ms) {
                    errors.push(FieldError::new(
                        field_path(field, "initial_delay_ms"),
                        format!("must be between 1 and {MAX_INITIAL_DELAY_MS} (24 hours)"),
                    ));
                }
                if !(MIN_MULTIPLIER..=MAX_MULTIPLIER).contains(backoff_multiplier) {
                    errors.push(FieldError::new(
                        field_path(field, "backoff_multiplier"),
                        format!(
                            "must be a number between {MIN_MULTIPLIER:.1} and {MAX_MULTIPLIER:.1}"
                        ),
                    ));
                }
                if max_delay_ms < initial_delay_ms {
                    errors.push(FieldError::new(
                        field_path(field, "max_delay_ms"),
                        "must not be less than initial_delay_ms",
                    ));
                }
                if *max_delay_ms > MAX_DELAY_MS {
                    errors.push(FieldError::new(
                        field_path(field, "max_delay_ms"),
                        format!("must be at most {MAX_DELAY_MS} (7 days)"),
                    ));
                }
                if *max_retries > MAX_RETRIES {
                    errors.push(FieldError::new(
                        field_path(field, "max_retries"),
                        format!("must be at most {MAX_RETRIES}"),
                    ));
                }
                errors
            }
        }
    }

    /// How many retries follow the first attempt.
    pub fn max_retries(&self) -> u32 {
        match self {
            Self::Schedule { schedule_secs } => {
                u32::try_from(schedule_secs.len()).unwrap_or(u32::MAX)
            }
            Self::Exponential { max_retries, .. } => *max_retries,
        }
    }

    /// The unjittered delay before the next attempt, once `attempts_made` attempts have been
    /// made; `None` once the retries are used up. The first attempt (`attempts_made == 0`)
    /// goes at once.
    pub fn base_delay(&self, attempts_made: u32) -> Option<Duration> {
        self.base_delay_ms(attempts_made).map(Duration::from_millis)
    }

    /// [`base_delay`](Self::base_delay) scaled by `jitter`, to the millisecond. An exponential
    /// policy is capped at `max_delay_ms` after jittering, so the cap is a hard promise.
    pub fn next_delay(&self, attempts_made: u32, jitter: Jitter) -> Option<Duration> {
        let base_ms = self.base_delay_ms(attempts_made)?;
        // Float-to-int `as` saturates, so no factor can overflow the result.
        let jittered_ms = (base_ms as f64 * jitter.factor()).round() as u64;
        let delay_ms = match self {
            Self::Schedule { .. } => jittered_ms,
            Self::Exponential { max_delay_ms, .. } => jittered_ms.min(*max_delay_ms),
        };
        Some(Duration::from_millis(delay_ms))
    }

    fn base_delay_ms(&self, attempts_made: u32) -> Option<u64> {
        if attempts_made == 0 {
            return Some(0);
        }
        if attempts_made > self.max_retries() {
            return None;
        }
        // Zero-based index of the retry being scheduled.
        let retry = attempts_made - 1;
        match self {
            Self::Schedule { schedule_secs } => {
                let secs = schedule_secs.get(usize::try_from(retry).ok()?)?;
                Some(secs.saturating_mul(1000))
            }
            Self::Exponential {
                initial_delay_ms,
                backoff_multiplier,
                max_delay_ms,
                ..
            } => {
                let exponent = i32::try_from(retry).unwrap_or(i32::MAX);
                let grown = *initial_delay_ms as f64 * backoff_multiplier.powi(exponent);
                // An infinite product saturates to u64::MAX and then meets the cap; a NaN one
                // (only from an unvalidated multiplier) becomes 0 rather than a panic.
                Some((grown.round() as u64).min(*max_delay_ms))
            }
        }
    }
}

fn validate_schedule(schedule_secs: &[u64], field: &str) -> Vec<FieldError> {
    let path = field_path(field, "schedule_secs");
    let mut errors = Vec::new();
    let max_entries = MAX_RETRIES as usize;
    if schedule_secs.is_empty() || schedule_secs.len() > max_entries {
        errors.push(FieldError::new(
            path.clone(),
            format!("must list between 1 and {max_entries} delays"),
        ));
    }
    for (i, &secs) in schedule_secs.iter().enumerate() {
        if secs > MAX_SCHEDULE_DELAY_SECS {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                format!("must be at most {MAX_SCHEDULE_DELAY_SECS} seconds (7 days)"),
            ));
        }
        if i > 0 && secs < schedule_secs[i - 1] {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                "must not be shorter than the delay before it",
            ));
        }
    }
    errors
}

/// A jitter factor in `[1 - JITTER_FRACTION, 1 + JITTER_FRACTION]`, drawn by the caller so
/// that the retry arithmetic stays deterministic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter(f64);

impl Jitter {
    /// No jitter: delays exactly as scheduled.
    pub const NONE: Jitter = Jitter(1.0);

    /// Maps a uniform draw `u` in `[0, 1]` linearly onto the factor range: 0 → 0.8,
    /// 0.5 → 1.0, 1 → 1.2. Out-of-range draws are clamped and NaN counts as 0.5, so a bad
    /// random source can skew delays but never break them.
    pub fn from_unit(u: f64) -> Jitter {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        let factor = 1.0 + JITTER_FRACTION * (2.0 * u - 1.0);
        // Clamped again so float rounding at the ends cannot leave the promised range.
        Jitter(factor.clamp(1.0 - JITTER_FRACTION, 1.0 + JITTER_FRACTION))
    }

    /// The multiplier applied to a base delay.
    pub fn factor(self) -> f64 {
        self.0
    }
}

/// Honours a receiver's `Retry-After` within reason: never sooner than the schedule says,
/// never more than twice as late.
pub fn clamp_retry_after(scheduled: Duration, retry_after: Duration) -> Duration {
    retry_after.max(scheduled).min(scheduled.saturating_mul(2))
}

#[cfg(test)]
mod tests;
