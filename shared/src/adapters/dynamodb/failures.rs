//! Failure records in their own table, listed newest first through the `by_time` and
//! `by_endpoint` indexes, with the time range as a key condition on `sort_key`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::error::{is_condition_failure, sdk_error, unless_condition_failed};
use super::failure_item::{from_failure_item, to_failure_item};
use super::item::{descending_time, key, s, string_attr, to_value, Item};
use super::tables::{FAILURES_BY_ENDPOINT, FAILURES_BY_TIME, FAILURE_KIND};
use crate::domain::delivery::FailureRecord;
use crate::ports::{FailureFilter, FailureStore, Page, PageRequest, PortError};

#[derive(Debug, Clone)]
pub struct DynamoFailureStore {
    pub client: Client,
    pub table: String,
}

impl DynamoFailureStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// Newest first when ascending, ties by id; also the cursor, since it names the record.
fn sort_key(failed_at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", descending_time(failed_at))
}

/// A bound that falls between every key of time `t` (`…#id`) and the keys around them:
/// `$` sorts right after `#`.
fn time_bound(t: DateTime<Utc>) -> String {
    format!("{}$", descending_time(t))
}

/// The key condition on `sort_key` for the filter's time range (`failed_after` inclusive,
/// `failed_before` exclusive), or `None` when the range is empty.
fn range_condition(filter: &FailureFilter) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    // Later times have smaller keys: `failed_before` gives the low bound, `failed_after` the high.
    let low = filter.failed_before.map(time_bound);
    let high = filter.failed_after.map(time_bound);
    match (low, high) {
        (Some(low), Some(high)) if low >= high => None,
        (Some(low), Some(high)) => Some((
            " AND #sort_key BETWEEN :low AND :high",
            vec![(":low", low), (":high", high)],
        )),
        (Some(low), None) => Some((" AND #sort_key > :low", vec![(":low", low)])),
        (None, Some(high)) => Some((" AND #sort_key < :high", vec![(":high", high)])),
        (None, None) => Some(("", Vec::new())),
    }
}

/// The ExclusiveStartKey a cursor stands for, in the index being read. A cursor outside the
/// time range is refused here: DynamoDB would answer a ValidationException.
fn start_key(
    cursor: &str,
    partition: (&str, &str),
    bounds: &[(&str, String)],
) -> Result<Item, PortError> {
    let invalid = || PortError::InvalidCursor("not a failures cursor".into());
    let (time, id) = cursor.split_once('#').ok_or_else(invalid)?;
    if time.len() != 26 || !time.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
        return Err(invalid());
    }
    let inside = bounds.iter().all(|(name, bound)| match *name {
        ":low" => cursor > bound.as_str(),
        _ => cursor < bound.as_str(),
    });
    if !inside {
        let outside = "outside the time range of this list".to_owned();
        return Err(PortError::InvalidCursor(outside));
    }
    let mut start = key("id", id);
    start.insert("sort_key".into(), s(cursor));
    start.insert(partition.0.into(), s(partition.1));
    Ok(start)
}

#[async_trait]
impl FailureStore for DynamoFailureStore {
    async fn record(&self, failure: &FailureRecord) -> Result<bool, PortError> {
        let item = to_failure_item(
            failure,
            FAILURE_KIND,
            sort_key(failure.failed_at, &failure.id),
        )?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", "id")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // The same dead letter delivered twice is one record.
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("PutItem failure", err)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<FailureRecord>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("id", id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem failure", e))?;
        out.item.map(from_failure_item).transpose()
    }

    async fn list(
        &self,
        filter: &FailureFilter,
        page: PageRequest,
    ) -> Result<Page<FailureRecord>, PortError> {
        let (index, partition) = match &filter.endpoint_id {
            Some(id) => (FAILURES_BY_ENDPOINT, ("endpoint_id", id.as_str())),
            None => (FAILURES_BY_TIME, ("kind", FAILURE_KIND)),
        };
        let Some((range, bounds)) = range_condition(filter) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let start = page
            .cursor
            .as_deref()
            .map(|cursor| start_key(cursor, partition, &bounds))
            .transpose()?;
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("#partition = :partition{range}"))
            .expression_attribute_names("#partition", partition.0)
            .expression_attribute_values(":partition", s(partition.1))
            .scan_index_forward(true)
            // One more than asked tells whether another page exists.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        if !bounds.is_empty() {
            query = query.expression_attribute_names("#sort_key", "sort_key");
        }
        for (name, value) in bounds {
            query = query.expression_attribute_values(name, s(value));
        }
        let out = query
            .send()
            .await
            .map_err(|e| sdk_error("Query failures", e))?;
        let mut items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_failure_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| sort_key(r.failed_at, &r.id))
        } else {
            // A Query also stops at 1 MB, short of the limit.
            out.last_evaluated_key
                .and_then(|last| string_attr(&last, "sort_key"))
        };
        Ok(Page { items, next_cursor })
    }

    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> Result<(), PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("id", id)))
            .update_expression("SET #replayed_at = :at")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#replayed_at", "replayed_at")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":at", to_value(&at)?)
            .send()
            .await;
        // Nothing to mark if the record is gone (or never was), as in memory.
        unless_condition_failed("UpdateItem replayed_at", result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn keys_sort_newest_first_then_by_id() {
        let mut keys = vec![
            sort_key(at(0), "b"),
            sort_key(at(1), "z"),
            sort_key(at(0), "a"),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                sort_key(at(1), "z"),
                sort_key(at(0), "a"),
                sort_key(at(0), "b")
            ]
        );
    }

    #[test]
    fn time_bounds_fall_between_keys() {
        let filter = FailureFilter {
            endpoint_id: None,
            failed_after: Some(at(0)),
            failed_before: Some(at(10)),
        };
        let (_, bounds) = range_condition(&filter).unwrap();
        let (low, high) = (&bounds[0].1, &bounds[1].1);
        let inside = |k: &String| low < k && k < high;
        assert!(inside(&sort_key(at(0), "a")));
        assert!(inside(&sort_key(at(9), "a")));
        assert!(!inside(&sort_key(at(10), "a")));
        assert!(!inside(&sort_key(at(-1), "a")));
        let empty = FailureFilter {
            failed_before: Some(at(0)),
            ..filter
        };
        assert!(range_condition(&empty).is_none());
    }

    #[test]
    fn cursors_are_checked() {
        let partition = ("kind", FAILURE_KIND);
        assert!(start_key("nonsense", partition, &[]).is_err());
        assert!(start_key(&format!("{}#", descending_time(at(0))), partition, &[]).is_err());
        let start = start_key(&sort_key(at(0), "dlv_1.0"), partition, &[]).unwrap();
        assert_eq!(start.get("id"), Some(&s("dlv_1.0")));
        let filter = FailureFilter {
            endpoint_id: None,
            failed_after: Some(at(0)),
            failed_before: Some(at(10)),
        };
        let (_, bounds) = range_condition(&filter).unwrap();
        assert!(start_key(&sort_key(at(5), "dlv_1.0"), partition, &bounds).is_ok());
        let outside = start_key(&sort_key(at(11), "dlv_1.0"), partition, &bounds);
        assert!(matches!(outside, Err(PortError::InvalidCursor(_))));
    }
}
