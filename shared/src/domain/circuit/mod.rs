//! The per-endpoint circuit breaker: closed → open after `failure_threshold` consecutive
//! failures, half-open after `open_timeout_secs`, closed again after `success_threshold`
//! successful probes.
//!
//! Every transition is a pure function of the stored state and `now`, so the worker can
//! apply it under a conditional write and concurrent workers never lose one.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{field_path, FieldError};

/// How often, how long and how cautiously the breaker trips and recovers (docs/architecture.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitConfig {
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub open_timeout_secs: u64,
    pub half_open_max_requests: u32,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            success_threshold: 2,
            open_timeout_secs: 60,
            half_open_max_requests: 3,
        }
    }
}

impl CircuitConfig {
    /// Every rule the config breaks, with paths under `field` (e.g. `circuit.open_timeout_secs`).
    pub fn validate(&self, field: &str) -> Vec<FieldError> {
        let checks = [
            (
                "failure_threshold",
                u64::from(self.failure_threshold),
                1_000,
            ),
            ("success_threshold", u64::from(self.success_threshold), 100),
            ("open_timeout_secs", self.open_timeout_secs, 86_400),
            (
                "half_open_max_requests",
                u64::from(self.half_open_max_requests),
                100,
            ),
        ];
        checks
            .into_iter()
            .filter(|&(_, value, max)| !(1..=max).contains(&value))
            .map(|(name, _, max)| {
                FieldError::new(
                    field_path(field, name),
                    format!("must be between 1 and {max}"),
                )
            })
            .collect()
    }

    /// When a window that began at `from` times out; saturates rather than overflowing.
    fn timeout_after(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        i64::try_from(self.open_timeout_secs)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .and_then(|timeout| from.checked_add_signed(timeout))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Where an endpoint's circuit stands, as stored in its state item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CircuitState {
    Closed {
        failures: u32,
    },
    Open {
        opened_at: DateTime<Utc>,
        /// When the circuit first left `Closed`; an endpoint open for 5 days is disabled.
        open_since: DateTime<Utc>,
    },
    HalfOpen {
        open_since: DateTime<Utc>,
        /// When this half-open window began.
        since: DateTime<Utc>,
        admitted: u32,
        successes: u32,
    },
}

impl Default for CircuitState {
    fn default() -> Self {
        Self::Closed { failures: 0 }
    }
}

impl CircuitState {
    /// How many days a circuit may stay away from `Closed` before its endpoint is disabled.
    pub const DISABLE_AFTER_OPEN_DAYS: i64 = 5;

    /// Decides how many of `n` requests may go now. Returns that number, when the rest may
    /// be tried (`None` if all were admitted) and the state to store.
    ///
    /// An open circuit admits nothing until `open_timeout_secs` after it opened (the rest
    /// may be tried when it half-opens), then turns half-open and admits up to
    /// `half_open_max_requests` probes per half-open window; requests beyond them may be
    /// tried as soon as the probes may have answered ([`next_look`]), not when the window
    /// ends, so a circuit that closes lets them go at once.
    /// A window whose probes are still unresolved `open_timeout_secs` after it began is
    /// presumed to have lost them (a worker died mid-probe): a fresh window starts, so the
    /// circuit cannot stall half-open forever. Successes already seen carry over to it.
    ///
    /// Asking for no requests changes nothing, so a caller may first ask for its whole
    /// batch without committing, then commit for just the requests it will really send.
    pub fn admit(
        &self,
        cfg: &CircuitConfig,
        n: u32,
        now: DateTime<Utc>,
    ) -> (u32, Option<DateTime<Utc>>, CircuitState) {
        if n == 0 {
            return (0, None, self.clone());
        }
        match *self {
            Self::Closed { .. } => (n, None, self.clone()),
            Self::Open {
                opened_at,
                open_since,
            } => {
                let half_open_at = cfg.timeout_after(opened_at);
                if now < half_open_at {
                    return (0, Some(half_open_at), self.clone());
                }
                probe(cfg, open_since, now, 0, 0, (n, now))
            }
            Self::HalfOpen {
                open_since,
                since,
                admitted,
                successes,
            } => {
                if now >= cfg.timeout_after(since) {
                    probe(cfg, open_since, now, 0, successes, (n, now))
                } else {
                    probe(cfg, open_since, since, admitted, successes, (n, now))
                }
            }
        }
    }

    /// The state after an admitted request succeeded. A success reported while open is a
    /// late result from before the circuit opened and changes nothing.
    pub fn record_success(&self, cfg: &CircuitConfig, _now: DateTime<Utc>) -> CircuitState {
        match *self {
            Self::Closed { .. } => Self::Closed { failures: 0 },
            Self::HalfOpen {
                open_since,
                since,
                admitted,
                successes,
            } => {
                let successes = successes.saturating_add(1);
                if successes >= cfg.success_threshold {
                    Self::Closed { failures: 0 }
                } else {
                    Self::HalfOpen {
                        open_since,
                        since,
                        admitted,
                        successes,
                    }
                }
            }
            Self::Open { .. } => self.clone(),
        }
    }

    /// The state after an admitted request failed. A failed probe reopens the circuit at
    /// once, keeping `open_since` so the disable clock keeps running; a failure reported
    /// while open is a late result and changes nothing.
    pub fn record_failure(&self, cfg: &CircuitConfig, now: DateTime<Utc>) -> CircuitState {
        match *self {
            Self::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= cfg.failure_threshold {
                    Self::Open {
                        opened_at: now,
                        open_since: now,
                    }
                } else {
                    Self::Closed { failures }
                }
            }
            Self::HalfOpen { open_since, .. } => Self::Open {
                opened_at: now,
                open_since,
            },
            Self::Open { .. } => self.clone(),
        }
    }

    /// When the circuit last left `Closed`, if it has not closed since.
    pub fn open_since(&self) -> Option<DateTime<Utc>> {
        match *self {
            Self::Closed { .. } => None,
            Self::Open { open_since, .. } | Self::HalfOpen { open_since, .. } => Some(open_since),
        }
    }

    /// Whether the circuit has been away from `Closed` for at least `limit`.
    pub fn open_too_long(&self, now: DateTime<Utc>, limit: TimeDelta) -> bool {
        self.open_since()
            .is_some_and(|since| now.signed_duration_since(since) >= limit)
    }

    /// The state's name, as stored and logged.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Closed { .. } => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half_open",
        }
    }
}

/// Admits up to the half-open window's remaining probe budget, `n` requests asked for at `now`.
fn probe(
    cfg: &CircuitConfig,
    open_since: DateTime<Utc>,
    since: DateTime<Utc>,
    admitted: u32,
    successes: u32,
    (n, now): (u32, DateTime<Utc>),
) -> (u32, Option<DateTime<Utc>>, CircuitState) {
    let granted = n.min(cfg.half_open_max_requests.saturating_sub(admitted));
    let retry_at = (granted < n).then(|| next_look(cfg, since, now));
    let state = CircuitState::HalfOpen {
        open_since,
        since,
        admitted: admitted.saturating_add(granted),
        successes,
    };
    (granted, retry_at, state)
}

/// When requests the probe budget turned away at `now` may look again, in a half-open
/// window that began at `since`: when the probes may have answered, not when the window
/// ends. Probes usually answer within moments, so the first look is a second later (queue
/// delays are whole seconds) and finds the circuit closed; while they are still out, each
/// look waits as long as the window has lasted so far, so looks thin out (1, 2, 4, 8 s…)
/// during a slow probe, and none waits past the window's end, when a fresh window starts.
pub fn next_look(cfg: &CircuitConfig, since: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let wait = (now - since).max(TimeDelta::seconds(1));
    now.checked_add_signed(wait)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .min(cfg.timeout_after(since))
}

#[cfg(test)]
mod tests;
