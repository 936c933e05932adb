//! A failure record as a DynamoDB item: its fields as attributes beside the index keys, but
//! the delivery job as JSON text. An event's `data` is the producer's raw JSON (numbers of
//! any size, exactly), which a DynamoDB map cannot hold. Records written with the job as a
//! map still load: their numbers had already been read as 64-bit or `f64`.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::corrupt;
use super::item::{from_item, s, to_item, Item};
use crate::domain::delivery::FailureRecord;
use crate::ports::PortError;

const JOB: &str = "job";

/// The record as stored: its own fields plus the index keys.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    record: &'a FailureRecord,
    kind: &'static str,
    sort_key: String,
}

pub(super) fn to_failure_item(
    record: &FailureRecord,
    kind: &'static str,
    sort_key: String,
) -> Result<Item, PortError> {
    let mut item = to_item(&Stored {
        record,
        kind,
        sort_key,
    })?;
    let job = serde_json::to_string(&record.job)
        .map_err(|e| PortError::Rejected(format!("cannot encode the job: {e}")))?;
    item.insert(JOB.into(), s(job));
    Ok(item)
}

pub(super) fn from_failure_item(mut item: Item) -> Result<FailureRecord, PortError> {
    let job = match item.remove(JOB) {
        Some(AttributeValue::S(text)) => text,
        Some(map) => serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value::<Value>(map)
            .map_err(|e| corrupt("failure record job", e))?
            .to_string(),
        None => return Err(corrupt("failure record", "it has no job")),
    };
    let rest: Map<String, Value> = from_item("failure record", item)?;
    // The job goes into the record's JSON text as it is, so that `data` is read verbatim.
    let rest = Value::Object(rest).to_string();
    let members = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or_default();
    let separator = if members.is_empty() { "" } else { "," };
    let text = format!("{{\"{JOB}\":{job}{separator}{members}}}");
    serde_json::from_str(&text).map_err(|e| corrupt("failure record", e))
}
