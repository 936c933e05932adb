//! Five-minute tallies of attempts: counts by status and a latency histogram, added to by
//! every batch (DynamoDB `ADD`, so writers never conflict) and summed into the overview's
//! last hour and last day without reading a single entry.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{LogEntry, LogStatus, TALLY_MINUTES};

/// The histogram's upper bounds in milliseconds; one more bucket holds everything slower.
pub const LATENCY_BOUNDS_MS: [u64; 9] = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
const BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The attempts of one five-minute bucket (or of several, summed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub delivered: u64,
    pub retrying: u64,
    pub failed: u64,
    pub latency_sum_ms: u64,
    /// Attempts per latency bucket: `LATENCY_BOUNDS_MS`, then the rest.
    pub latency: [u64; BUCKETS],
}

impl Tally {
    /// The bucket `at` falls in, as minutes since the epoch rounded down to five.
    pub fn bucket(at: DateTime<Utc>) -> i64 {
        at.timestamp().div_euclid(60 * TALLY_MINUTES) * TALLY_MINUTES
    }

    /// `tally#2026-12-02T03:05`.
    pub fn key(bucket: i64) -> String {
        let start = Utc
            .timestamp_opt(bucket * 60, 0)
            .single()
            .unwrap_or_default();
        format!("tally#{}", start.format("%Y-%m-%dT%H:%M"))
    }

    /// The buckets of the `minutes` before `now`, the current one included.
    pub fn buckets_since(now: DateTime<Utc>, minutes: i64) -> Vec<i64> {
        let newest = Self::bucket(now);
        let count = (minutes / TALLY_MINUTES).max(1);
        (0..count).map(|n| newest - n * TALLY_MINUTES).collect()
    }

    pub fn add(&mut self, entry: &LogEntry) {
        match entry.status {
            LogStatus::Delivered => self.delivered += 1,
            LogStatus::Retrying => self.retrying += 1,
            LogStatus::Failed => self.failed += 1,
        }
        self.latency_sum_ms = self.latency_sum_ms.saturating_add(entry.latency_ms);
        let slot = LATENCY_BOUNDS_MS
            .iter()
            .position(|bound| entry.latency_ms <= *bound)
            .unwrap_or(BUCKETS - 1);
        self.latency[slot] += 1;
    }

    pub fn merge(&mut self, other: &Tally) {
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.latency_sum_ms = self.latency_sum_ms.saturating_add(other.latency_sum_ms);
        for (mine, theirs) in self.latency.iter_mut().zip(other.latency) {
            *mine += theirs;
        }
    }

    pub fn attempts(&self) -> u64 {
        self.delivered + self.retrying + self.failed
    }

    /// The upper bound of the bucket the `q` quantile falls in (`None` when there were no
    /// attempts, or it lies beyond the last bound).
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        let total = self.attempts();
        if total == 0 {
            return None;
        }
        // The rank of the quantile, 1-based: the smallest count reaching q of the total.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (slot, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return LATENCY_BOUNDS_MS.get(slot).copied();
            }
        }
        None
    }

    pub fn summary(&self) -> Summary {
        let attempts = self.attempts();
        Summary {
            attempts,
            delivered: self.delivered,
            retrying: self.retrying,
            failed: self.failed,
            success_rate: (attempts > 0).then(|| self.delivered as f64 / attempts as f64),
            mean_latency_ms: self.latency_sum_ms.checked_div(attempts),
            p50_latency_ms: self.quantile_ms(0.50),
            p95_latency_ms: self.quantile_ms(0.95),
            p99_latency_ms: self.quantile_ms(0.99),
        }
    }
}

/// A tally as the overview shows it. Quantiles are bucket bounds (`≤ 250 ms`); `None`
/// beyond the last bound (over 10 s) or without attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub attempts: u64,
    pub delivered: u64,
    pub retrying: u64,
    pub failed: u64,
    /// Attempts that delivered, of all attempts.
    pub success_rate: Option<f64>,
    pub mean_latency_ms: Option<u64>,
    pub p50_latency_ms: Option<u64>,
    pub p95_latency_ms: Option<u64>,
    pub p99_latency_ms: Option<u64>,
}
