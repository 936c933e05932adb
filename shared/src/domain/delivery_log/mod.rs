//! The delivery log: one entry per attempt, kept 7 days for the console and
//! `GET /v1/deliveries`, and the five-minute tallies behind the overview. The entries of one
//! worker batch are stored together (one write per batch, not per delivery), under the hour
//! they were made in, so a search reads hours newest first and filters within them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::delivery::AttemptRecord;
use super::event::EventType;
use super::ids::{DeliveryId, EndpointId, EventId};

mod tally;
pub use tally::{Summary, Tally, LATENCY_BOUNDS_MS};

/// How long entries and tallies are kept: as long as the delivery records.
pub const RETENTION: Duration = Duration::days(7);
/// The width of one tally bucket.
pub const TALLY_MINUTES: i64 = 5;

/// Where a delivery stood after the attempt an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStatus {
    Delivered,
    /// The attempt failed and another is scheduled.
    Retrying,
    /// The attempt failed and authhooks gave up: the delivery is in the failures list.
    Failed,
}

impl LogStatus {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "delivered" => Ok(Self::Delivered),
            "retrying" => Ok(Self::Retrying),
            "failed" => Ok(Self::Failed),
            other => Err(format!(
                "must be delivered, retrying or failed, not {other:?}"
            )),
        }
    }
}

/// One attempt of one delivery, as the log keeps it. The response snippet is kept only for
/// attempts that did not deliver: that is where it explains something, and it is most of an
/// entry's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    pub event_type: EventType,
    pub endpoint_id: EndpointId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub status: LogStatus,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// What an entry is about, apart from its attempt.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub delivery_id: &'a DeliveryId,
    pub event_id: &'a EventId,
    pub event_type: &'a EventType,
    pub endpoint_id: &'a EndpointId,
    pub subject: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
}

impl LogEntry {
    pub fn of(about: Subject<'_>, record: &AttemptRecord, status: LogStatus) -> Self {
        Self {
            delivery_id: about.delivery_id.clone(),
            event_id: about.event_id.clone(),
            event_type: about.event_type.clone(),
            endpoint_id: about.endpoint_id.clone(),
            subject: about.subject.map(str::to_owned),
            tenant_id: about.tenant_id.map(str::to_owned),
            status,
            attempt: record.attempt,
            at: record.at,
            latency_ms: record.latency_ms,
            http_status: record.status,
            error: record.error.clone(),
            snippet: match status {
                LogStatus::Delivered => None,
                LogStatus::Retrying | LogStatus::Failed => record.snippet.clone(),
            },
        }
    }
}

/// The entries of one worker batch, stored together under the hour of the earliest of them
/// (so every entry is at or after its batch's key: the bounds of a search rely on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBatch {
    pub hour: Hour,
    pub key: String,
    pub entries: Vec<LogEntry>,
}

impl LogBatch {
    /// `None` for no entries: nothing to store.
    pub fn new(entries: Vec<LogEntry>, random: u64) -> Option<Self> {
        let at = entries.iter().map(|e| e.at).min()?;
        Some(Self {
            hour: Hour::of(at),
            key: batch_key(at, random),
            entries,
        })
    }

    /// Each entry added to the tally of its bucket: usually one bucket, two at a boundary.
    pub fn tallies(&self) -> Vec<(i64, Tally)> {
        let mut out: Vec<(i64, Tally)> = Vec::new();
        for entry in &self.entries {
            let bucket = Tally::bucket(entry.at);
            match out.iter_mut().find(|(b, _)| *b == bucket) {
                Some((_, tally)) => tally.add(entry),
                None => {
                    let mut tally = Tally::default();
                    tally.add(entry);
                    out.push((bucket, tally));
                }
            }
        }
        out
    }
}

/// How far before a search's `since` its batches may start: a batch is keyed by its
/// earliest entry, and a worker's batch lasts at most its function's minute.
pub const BATCH_SPAN: Duration = Duration::minutes(2);

/// Which entries a search returns; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub endpoint_id: Option<EndpointId>,
    /// Several endpoints (a tenant's): an entry of any of them matches.
    pub endpoint_ids: Option<Vec<EndpointId>>,
    pub status: Option<LogStatus>,
    pub event_type: Option<EventType>,
    pub subject: Option<String>,
    pub delivery_id: Option<DeliveryId>,
    pub event_id: Option<EventId>,
    pub tenant_id: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
}

impl LogQuery {
    pub fn matches(&self, entry: &LogEntry) -> bool {
        fn is<T: PartialEq>(want: &Option<T>, got: &T) -> bool {
            want.as_ref().is_none_or(|w| w == got)
        }
        is(&self.endpoint_id, &entry.endpoint_id)
            && self
                .endpoint_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&entry.endpoint_id))
            && is(&self.status, &entry.status)
            && is(&self.event_type, &entry.event_type)
            && is(&self.delivery_id, &entry.delivery_id)
            && is(&self.event_id, &entry.event_id)
            && self
                .subject
                .as_ref()
                .is_none_or(|s| entry.subject.as_ref() == Some(s))
            && self
                .tenant_id
                .as_ref()
                .is_none_or(|t| entry.tenant_id.as_ref() == Some(t))
            && self.since.is_none_or(|t| entry.at >= t)
            && self.until.is_none_or(|t| entry.at < t)
    }

    /// The hours to read, newest first: from `until` (or now) back to `since` (less a
    /// batch's span), never beyond the retention.
    pub fn hours(&self, now: DateTime<Utc>) -> (Hour, Hour) {
        let newest = self.until.map_or(now, |u| u - Duration::milliseconds(1));
        let oldest = self
            .since
            .map_or(now - RETENTION, |s| (s - BATCH_SPAN).max(now - RETENTION));
        (Hour::of(newest), Hour::of(oldest))
    }
}

/// An hour since the epoch: the partition a batch's entries are stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hour(pub i64);

impl Hour {
    pub fn of(at: DateTime<Utc>) -> Self {
        Self(at.timestamp().div_euclid(3600))
    }

    pub fn previous(self) -> Self {
        Self(self.0 - 1)
    }

    pub fn start(self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0 * 3600, 0)
            .single()
            .unwrap_or_default()
    }

    /// `log#2026-12-02T03`: readable in the table, ordered like the hours.
    pub fn key(self) -> String {
        format!("log#{}", self.start().format("%Y-%m-%dT%H"))
    }
}

/// The sort key of a batch's entries within its hour: the batch's time, then a random
/// suffix so two batches at one millisecond never collide. Newest first is descending order.
pub fn batch_key(at: DateTime<Utc>, random: u64) -> String {
    format!("{:013}#{random:016x}", at.timestamp_millis().max(0))
}

/// A bound for batch keys: every batch key at `at` or later sorts above it, every earlier
/// one below.
pub fn key_at(at: DateTime<Utc>) -> String {
    format!("{:013}", at.timestamp_millis().max(0))
}

/// Where a search stopped: the hour, the batch it was in (inclusive: the search resumes
/// there) and how many of that batch's entries it had already looked at. `None` for `at`
/// means the hour is to be read from its newest batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCursor {
    pub hour: Hour,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default)]
    pub skip: usize,
}

#[cfg(test)]
mod tests;
