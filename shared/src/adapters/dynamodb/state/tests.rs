//! Stored idempotency records, read back: the shapes earlier releases wrote, paused records
//! and the corrupt ones.

use chrono::{DateTime, Utc};

use super::record::{encode_history, encode_progress, Record};
use crate::adapters::dynamodb::item::{from_item, n, s, Item};
use crate::domain::delivery::{AttemptRecord, Progress};
use crate::ports::{ClaimOutcome, PortError};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn record(attributes: &[(&str, aws_sdk_dynamodb::types::AttributeValue)]) -> Record {
    let item: Item = attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    from_item("idempotency record", item).unwrap()
}

/// A completed record exactly as the releases before the typed history wrote it.
fn legacy_completed(detail: &str) -> Record {
    record(&[
        ("pk", s("dlv#0f3a")),
        ("token", n(7)),
        ("status", s("completed")),
        ("expires_at", n(1_800_172_800)),
        ("detail", s(detail)),
    ])
}

const LEGACY_DETAIL: &str = r#"[{"attempt":1,"status":503,"error":null,"latency_ms":12,"at":"2026-11-22T10:00:00Z","snippet":"busy"},{"attempt":2,"status":null,"error":"timed out","latency_ms":15000,"at":"2026-11-22T10:00:05.250Z"}]"#;

fn legacy_history() -> Vec<AttemptRecord> {
    vec![
        AttemptRecord {
            attempt: 1,
            status: Some(503),
            error: None,
            latency_ms: 12,
            at: at("2026-11-22T10:00:00Z"),
            snippet: Some("busy".into()),
        },
        AttemptRecord {
            attempt: 2,
            status: None,
            error: Some("timed out".into()),
            latency_ms: 15_000,
            at: at("2026-11-22T10:00:05.250Z"),
            snippet: None,
        },
    ]
}

#[test]
fn completed_records_written_before_the_typed_history_load() {
    assert_eq!(
        legacy_completed(LEGACY_DETAIL).outcome().unwrap(),
        ClaimOutcome::Completed {
            history: legacy_history()
        }
    );
}

#[test]
fn the_history_is_stored_in_the_same_json_string() {
    assert_eq!(encode_history(&legacy_history()).unwrap(), LEGACY_DETAIL);
}

#[test]
fn an_undecodable_history_is_corrupt() {
    let err = legacy_completed("3 deliveries").outcome().unwrap_err();
    assert!(
        matches!(&err, PortError::Corrupt(m) if m.contains("dlv#0f3a")),
        "{err}"
    );
}

/// Expires at 2027-01-15T08:00:00Z.
const EXPIRES_AT: i64 = 1_800_000_000;

/// An unfinished record as the releases before pausing wrote it: no `progress`.
fn legacy_in_progress() -> Record {
    record(&[
        ("pk", s("dlv#0f3a")),
        ("token", n(7)),
        ("status", s("in_progress")),
        ("lease_until", n(1_799_999_000_123_i64)),
        ("expires_at", n(EXPIRES_AT)),
    ])
}

#[test]
fn in_progress_records_written_before_pausing_load() {
    let old = legacy_in_progress();
    assert_eq!(old.progress_for(at("2027-01-15T07:00:00Z")).unwrap(), None);
    assert_eq!(
        old.outcome().unwrap(),
        ClaimOutcome::InProgress {
            lease_until: at("2027-01-15T07:43:20.123Z")
        }
    );
}

fn progress() -> Progress {
    Progress {
        generation: 1,
        attempts: 2,
        first_attempt_at: Some(at("2026-11-22T10:00:00Z")),
        history: legacy_history(),
        not_before: Some(at("2026-11-22T12:00:00Z")),
    }
}

fn paused(status: &str, progress: &str) -> Record {
    record(&[
        ("pk", s("dlv#0f3a")),
        ("token", n(7)),
        ("status", s(status)),
        ("lease_until", n(0)),
        ("expires_at", n(EXPIRES_AT)),
        ("detail", s(LEGACY_DETAIL)),
        ("progress", s(progress)),
    ])
}

#[test]
fn a_paused_record_passes_its_progress_on_until_it_expires() {
    let stored = encode_progress(&progress()).unwrap();
    let record = paused("in_progress", &stored);
    assert_eq!(
        record.progress_for(at("2027-01-15T07:59:59.999Z")).unwrap(),
        Some(progress())
    );
    assert_eq!(
        record.progress_for(at("2027-01-15T08:00:00Z")).unwrap(),
        None
    );
    // To a read it is seen, its lease long lapsed.
    assert_eq!(
        record.outcome().unwrap(),
        ClaimOutcome::InProgress {
            lease_until: DateTime::UNIX_EPOCH
        }
    );
    // A completed record never passes progress on, whatever it carries.
    let done = paused("completed", &stored);
    assert_eq!(done.progress_for(at("2027-01-15T07:00:00Z")).unwrap(), None);
}

#[test]
fn the_progress_is_stored_as_the_jobs_json() {
    let stored = encode_progress(&progress()).unwrap();
    assert_eq!(
        stored,
        format!(
            r#"{{"generation":1,"attempts":2,"first_attempt_at":"2026-11-22T10:00:00Z","history":{LEGACY_DETAIL},"not_before":"2026-11-22T12:00:00Z"}}"#
        )
    );
}

#[test]
fn an_undecodable_progress_is_corrupt() {
    let err = paused("in_progress", "2 attempts")
        .progress_for(at("2027-01-15T07:00:00Z"))
        .unwrap_err();
    assert!(
        matches!(&err, PortError::Corrupt(m) if m.contains("dlv#0f3a") && m.contains("progress")),
        "{err}"
    );
}
