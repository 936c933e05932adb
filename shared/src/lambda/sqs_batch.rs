//! SQS batches in and out: the records of an `SqsEvent` as the use cases' messages, and the
//! messages they could not finish as a partial batch response (ReportBatchItemFailures),
//! so SQS redelivers only those.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::de::DeserializeOwned;

use crate::ports::Received;

/// The event's records, decoded into what the function expects; a record without an id or
/// body cannot be acknowledged selectively and is given an empty one (it fails to decode and
/// is reported back by id).
pub fn received<T: DeserializeOwned>(event: SqsEvent) -> Vec<Received<T>> {
    event
        .records
        .into_iter()
        .map(|record| {
            Received::decode(
                record.message_id.unwrap_or_default(),
                record.receipt_handle.unwrap_or_default(),
                &record.body.unwrap_or_default(),
            )
        })
        .collect()
}

pub fn batch_response(failed: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
