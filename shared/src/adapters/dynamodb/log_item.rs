//! How a batch of log entries is stored, small enough that a batch of ten is one write unit
//! (1 KB): each entry a JSON array without field names, its endpoint an index into the
//! batch's list of endpoints, its time in nanoseconds after the batch's, its delivery id
//! left out (it is derived from the event and endpoint ids), and the whole deflated.
//! Entries come back exactly as they went in, in their order.

use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};

use super::error::corrupt;
use crate::domain::delivery_log::{LogEntry, LogStatus};
use crate::domain::event::EventType;
use crate::domain::ids::{DeliveryId, EndpointId, EventId};
use crate::ports::PortError;

/// Entries decompressed at most, whatever an item claims: a batch is ten entries.
const MAX_DECODED_BYTES: u64 = 4 << 20;

#[derive(Serialize, Deserialize)]
struct Stored {
    /// The batch's endpoints, each once.
    endpoints: Vec<EndpointId>,
    rows: Vec<Row>,
}

/// event, type, endpoint (index), subject, tenant, status, attempt, nanoseconds after the
/// batch's time, latency, HTTP status, error, snippet.
#[derive(Serialize, Deserialize)]
struct Row(
    EventId,
    EventType,
    usize,
    Option<String>,
    Option<String>,
    LogStatus,
    u32,
    i64,
    u64,
    Option<u16>,
    Option<String>,
    Option<String>,
);

/// The time offsets count from: the millisecond a batch key starts with.
pub(super) fn base_of(key: &str) -> Result<DateTime<Utc>, PortError> {
    key.get(..13)
        .and_then(|millis| millis.parse().ok())
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| corrupt("log batch", format!("not a batch key: {key}")))
}

pub(super) fn encode(entries: &[LogEntry], base: DateTime<Utc>) -> Result<Vec<u8>, PortError> {
    let mut endpoints: Vec<EndpointId> = Vec::new();
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let index = match endpoints.iter().position(|id| *id == e.endpoint_id) {
            Some(index) => index,
            None => {
                endpoints.push(e.endpoint_id.clone());
                endpoints.len() - 1
            }
        };
        let offset = (e.at - base).num_nanoseconds().unwrap_or(0);
        rows.push(Row(
            e.event_id.clone(),
            e.event_type.clone(),
            index,
            e.subject.clone(),
            e.tenant_id.clone(),
            e.status,
            e.attempt,
            offset,
            e.latency_ms,
            e.http_status,
            e.error.clone(),
            e.snippet.clone(),
        ));
    }
    let json = serde_json::to_vec(&Stored { endpoints, rows })
        .map_err(|e| PortError::Rejected(format!("cannot encode log entries: {e}")))?;
    let mut deflate = DeflateEncoder::new(Vec::new(), Compression::best());
    deflate
        .write_all(&json)
        .and_then(|()| deflate.finish())
        .map_err(|e| PortError::Rejected(format!("cannot compress log entries: {e}")))
}

pub(super) fn decode(bytes: &[u8], base: DateTime<Utc>) -> Result<Vec<LogEntry>, PortError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .take(MAX_DECODED_BYTES)
        .read_to_end(&mut json)
        .map_err(|e| corrupt("log batch", e))?;
    let stored: Stored = serde_json::from_slice(&json).map_err(|e| corrupt("log batch", e))?;
    stored
        .rows
        .into_iter()
        .map(|row| {
            let Row(
                event_id,
                event_type,
                index,
                subject,
                tenant_id,
                status,
                attempt,
                offset,
                latency_ms,
                http_status,
                error,
                snippet,
            ) = row;
            let endpoint_id = stored
                .endpoints
                .get(index)
                .cloned()
                .ok_or_else(|| corrupt("log batch", format!("no endpoint {index}")))?;
            Ok(LogEntry {
                delivery_id: DeliveryId::derive(&event_id, &endpoint_id),
                event_id,
                event_type,
                endpoint_id,
                subject,
                tenant_id,
                status,
                attempt,
                at: base + chrono::Duration::nanoseconds(offset),
                latency_ms,
                http_status,
                error,
                snippet,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::delivery::AttemptRecord;
    use crate::domain::delivery_log::Subject;
    use chrono::TimeZone;

    /// Ten attempts of a worker batch as they come: ULID ids, two endpoints, one failure.
    fn batch() -> Vec<LogEntry> {
        let base = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        (0..10u32)
            .map(|n| {
                let event_id =
                    EventId::parse(&format!("evt_01KBF3Y8Z{n}QF4XW9Q2T7H5M1RZ")).unwrap();
                let endpoint = EndpointId::parse(
                    [
                        "ep_01KBF2AAAQ1M8T0V6F9R3X2YJD",
                        "ep_01KBF2BBBQ7T4H1N2M5C8W0QPA",
                    ][n as usize % 2],
                )
                .unwrap();
                let failed = n == 7;
                let record = AttemptRecord {
                    attempt: 1,
                    status: Some(if failed { 503 } else { 200 }),
                    error: None,
                    latency_ms: u64::from(20 + n * 7),
                    at: base + chrono::Duration::nanoseconds(i64::from(n) * 1_234_567_891),
                    snippet: failed.then(|| "upstream unavailable, try again later".to_owned()),
                };
                let status = if failed {
                    LogStatus::Retrying
                } else {
                    LogStatus::Delivered
                };
                LogEntry::of(
                    Subject {
                        delivery_id: &DeliveryId::derive(&event_id, &endpoint),
                        event_id: &event_id,
                        event_type: &EventType::parse("user.updated").unwrap(),
                        endpoint_id: &endpoint,
                        subject: Some(&format!("usr_01KBF1ZZZ{n}N6D2K8")),
                        tenant_id: Some("acme"),
                    },
                    &record,
                    status,
                )
            })
            .collect()
    }

    #[test]
    fn a_batch_comes_back_exactly_in_its_order() {
        let entries = batch();
        let key = crate::domain::delivery_log::batch_key(entries[0].at, 42);
        let base = base_of(&key).unwrap();
        let stored = encode(&entries, base).unwrap();
        assert_eq!(decode(&stored, base).unwrap(), entries);
    }

    #[test]
    fn ten_entries_fit_one_write_unit() {
        let entries = batch();
        let json = serde_json::to_vec(&entries).unwrap().len();
        let stored = encode(&entries, entries[0].at).unwrap().len();
        // The item's keys, TTL and attribute names take under 80 bytes more.
        assert!(stored + 80 <= 1024, "{stored} bytes stored (JSON: {json})");
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let base = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        assert!(matches!(
            decode(b"not deflate", base),
            Err(PortError::Corrupt(_))
        ));
        assert!(base_of("12").is_err());
    }
}
