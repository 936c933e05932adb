//! Item conversion (through `serde_dynamo` only), key and expression values, and how times
//! are written as numbers.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::corrupt;
use crate::ports::PortError;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, PortError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| PortError::Rejected(format!("cannot encode item: {e}")))
}

pub(super) fn from_item<T: DeserializeOwned>(what: &str, item: Item) -> Result<T, PortError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| corrupt(what, e))
}

/// A value encoded exactly as it is inside items, for expressions that compare or set it.
pub(super) fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, PortError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
        .map_err(|e| PortError::Rejected(format!("cannot encode value: {e}")))
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A key of one string attribute.
pub(super) fn key(name: &str, value: impl Into<String>) -> Item {
    HashMap::from([(name.to_owned(), s(value))])
}

/// A string attribute of an item or key, if it has one.
pub(super) fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

/// Epoch seconds rounded up, as the TTL attribute wants them: never forgotten early.
pub(super) fn epoch_secs_up(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// Epoch milliseconds rounded up: a lease is never taken as lapsed early.
pub(super) fn epoch_millis_up(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis() + i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1_000_000))
}

pub(super) fn from_epoch_millis(millis: i64) -> Result<DateTime<Utc>, PortError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| corrupt("state item", format!("time out of range: {millis}")))
}

fn epoch_nanos(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

/// `t` in epoch seconds as an exact decimal number, so that conditions compare the rounded
/// stored times with the caller's precise `now`.
pub(super) fn exact_secs(t: DateTime<Utc>) -> AttributeValue {
    n(decimal(epoch_nanos(t), 9))
}

/// `t` in epoch milliseconds as an exact decimal number.
pub(super) fn exact_millis(t: DateTime<Utc>) -> AttributeValue {
    n(decimal(epoch_nanos(t), 6))
}

/// `value / 10^scale` written out in full.
fn decimal(value: i128, scale: usize) -> String {
    let unit = 10u128.pow(scale as u32);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    format!("{sign}{}.{:0scale$}", abs / unit, abs % unit)
}

/// Orders failure records newest first when read ascending: chrono's whole range in
/// nanoseconds (about ±8.3e21) subtracted from 10^25 stays positive and 26 digits wide.
pub(super) fn descending_time(t: DateTime<Utc>) -> String {
    const OFFSET: i128 = 10_i128.pow(25);
    format!("{:026}", OFFSET - epoch_nanos(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn exact_times_are_decimals() {
        let t = Utc.timestamp_opt(1_800_000_000, 1_500_000).unwrap();
        assert_eq!(exact_secs(t), n("1800000000.001500000"));
        assert_eq!(exact_millis(t), n("1800000000001.500000"));
        assert_eq!(decimal(-1_500_000_000, 9), "-1.500000000");
        assert_eq!(epoch_secs_up(t), 1_800_000_001);
        assert_eq!(epoch_millis_up(t), 1_800_000_000_002);
        let whole = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        assert_eq!(epoch_secs_up(whole), 1_800_000_000);
        assert_eq!(epoch_millis_up(whole), 1_800_000_000_000);
    }

    #[test]
    fn descending_time_falls_as_time_rises_and_keeps_its_width() {
        let times = [
            DateTime::<Utc>::MIN_UTC,
            Utc.timestamp_opt(-1, 5).unwrap(),
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.timestamp_opt(1_800_000_000, 1).unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        let keys: Vec<String> = times.iter().map(|t| descending_time(*t)).collect();
        assert!(keys
            .iter()
            .all(|k| k.len() == 26 && k.bytes().all(|b| b.is_ascii_digit())));
        assert!(keys.windows(2).all(|w| w[0] > w[1]));
    }
}
