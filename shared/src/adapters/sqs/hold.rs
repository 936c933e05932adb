//! Holding received messages in place: `ChangeMessageVisibilityBatch`, ten per call. How
//! an ordered delivery waits for its retry on the FIFO queue without leaving its group.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;

use super::{refused, SqsQueue, BATCH_SIZE};
use crate::adapters::dynamodb::error::{build_error, sdk_error};
use crate::domain::ids::EndpointId;
use crate::ports::{Hold, PortError, QueueHold, QueueRecall, MAX_HOLD};

/// Entry errors meaning the hold came too late: the message was deleted, received again
/// (a new receipt) or is visible already. Nothing is left to hold, as the port allows.
const STALE: [&str; 2] = ["ReceiptHandleIsInvalid", "MessageNotInflight"];

#[async_trait]
impl QueueHold for SqsQueue {
    async fn hold(&self, holds: Vec<Hold>) -> Result<(), PortError> {
        for chunk in holds.chunks(BATCH_SIZE) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, hold)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&hold.receipt_handle)
                        .visibility_timeout(hold_secs(hold.delay))
                        .build()
                        .map_err(build_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("ChangeMessageVisibilityBatch", e))?;
            let failed: Vec<_> = out
                .failed()
                .iter()
                .filter(|f| !is_stale(f.code()))
                .cloned()
                .collect();
            if !failed.is_empty() {
                return Err(refused(
                    "ChangeMessageVisibilityBatch",
                    &failed,
                    chunk.len(),
                ));
            }
        }
        Ok(())
    }
}

/// SQS offers no way to find a delayed message (it is not received before its delay ends)
/// or a held one (in flight, reachable only by the receipt handle of the receive that hid
/// it), so nothing can be brought forward here: the worker cuts an endpoint's waits short
/// at each job's next look after its recover (`domain::recovery`, docs/operations.md).
#[async_trait]
impl QueueRecall for SqsQueue {
    async fn bring_forward(&self, _endpoint: &EndpointId) -> Result<usize, PortError> {
        Ok(0)
    }
}

/// SQS's codes come bare or with the query protocol's prefix
/// (`AWS.SimpleQueueService.MessageNotInflight`).
fn is_stale(code: &str) -> bool {
    let bare = code.rsplit('.').next().unwrap_or(code);
    STALE.contains(&bare)
}

/// Whole seconds rounded up (a retry never comes early), at most [`MAX_HOLD`].
fn hold_secs(delay: Duration) -> i32 {
    let delay = delay.min(MAX_HOLD);
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    i32::try_from(secs.min(MAX_HOLD.as_secs())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_whole_seconds_up_to_the_maximum() {
        let secs = |ms| hold_secs(Duration::from_millis(ms));
        let max = i32::try_from(MAX_HOLD.as_secs()).unwrap();
        assert_eq!(
            [
                secs(0),
                secs(1),
                secs(1500),
                secs(3_600_000),
                secs(u64::MAX)
            ],
            [0, 1, 2, 3600, max]
        );
    }

    #[test]
    fn stale_receipts_are_told_apart_from_other_refusals() {
        assert!(is_stale("ReceiptHandleIsInvalid"));
        assert!(is_stale("AWS.SimpleQueueService.MessageNotInflight"));
        assert!(!is_stale("InvalidParameterValue"));
        assert!(!is_stale(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
        ));
    }
}
