//! Where a delivery job goes on a queue, the one rule both queue adapters (SQS and the
//! in-memory one) apply before sending anything: on a FIFO queue an ordered job travels in
//! its line (its order key as the group, its failure-record id as the deduplication id); a
//! standard queue sends no group (a MessageGroupId there would make it a fair queue). An
//! ordered job is held, never delayed (SQS FIFO refuses a per-message delay), and a FIFO
//! queue takes only ordered jobs (it refuses a message without a group).

use std::time::Duration;

use super::{DeliveryJob, FailureRecord};

/// A job's (group, deduplication id) on a FIFO queue, none on a standard one; or why the
/// job cannot go on this queue at all.
pub fn placement(
    job: &DeliveryJob,
    delay: Duration,
    fifo: bool,
) -> Result<Option<(String, String)>, String> {
    if job.order_key.is_some() && !delay.is_zero() {
        return Err(format!(
            "ordered job {} with a delay of {delay:?}: an ordered job is held, never delayed",
            FailureRecord::id_for(job)
        ));
    }
    match (&job.order_key, fifo) {
        (Some(key), true) => Ok(Some((key.to_string(), FailureRecord::id_for(job)))),
        (None, true) => Err(format!(
            "job {} without an order key on a FIFO queue (no MessageGroupId)",
            FailureRecord::id_for(job)
        )),
        (_, false) => Ok(None),
    }
}
