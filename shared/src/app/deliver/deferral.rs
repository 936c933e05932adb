//! Jobs put off without an attempt: held back by admission (circuit, rate limit, attempts
//! in flight), or a batching endpoint's fresh jobs waiting for company (§3.15).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{batch, FollowUp, Taken};
use crate::domain::admission::Deferral;
use crate::domain::batch::Batching;
use crate::domain::delivery::DeliveryJob;
use crate::domain::order::deferral_hold;

/// Puts a held-back unit off until `due`, no attempt counted: an ordered job is held in
/// place (admission decides again when it comes back, so a wait beyond one hold needs no
/// record), behind an open circuit for longer the longer it has been open
/// ([`deferral_hold`]); unordered jobs are re-enqueued with a delay, a batch's together.
pub(super) fn defer(
    unit: Vec<Taken>,
    (why, outage): (Deferral, Duration),
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(String, FollowUp)> {
    let (ordered, unordered): (Vec<Taken>, Vec<Taken>) =
        unit.into_iter().partition(|t| t.job.order_key.is_some());
    let mut follow_ups: Vec<(String, FollowUp)> = ordered
        .into_iter()
        .map(|taken| {
            let wait = (due - now).to_std().unwrap_or_default();
            let wait = match why {
                Deferral::Circuit => deferral_hold(wait, outage),
                Deferral::Rate | Deferral::Busy => wait,
            };
            let hold = FollowUp::Hold {
                receipt_handle: taken.receipt_handle,
                // Cut to the longest hold by the queue; admission decides again on its return.
                delay: wait,
            };
            (taken.message_id, hold)
        })
        .collect();
    follow_ups.extend(later_together(unordered, due, now));
    follow_ups
}

/// Unordered jobs back on the queue for `due`, in one message where there are several.
fn later_together(
    jobs: Vec<Taken>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(String, FollowUp)> {
    let ids: Vec<String> = jobs.iter().map(|t| t.message_id.clone()).collect();
    let sent_back = batch::together(jobs.into_iter().map(|t| (t.job, None)), due, now);
    ids.into_iter().zip(sent_back).collect()
}

/// A batching endpoint's jobs, unless they are fresh and too few for a full POST: then
/// they wait for more of its events, for at most its `max_wait_ms` (an ordered one held
/// in place, unordered ones in one message), and `Err` holds what follows for each, nothing
/// else being done with them.
pub(super) fn gather(
    batching: &Batching,
    jobs: Vec<Taken>,
    now: DateTime<Utc>,
) -> Result<Vec<Taken>, Vec<(String, FollowUp)>> {
    let refs: Vec<&DeliveryJob> = jobs.iter().map(|t| &t.job).collect();
    let Some(due) = batching.wait_for_more(&refs, now) else {
        return Ok(jobs);
    };
    Err(defer(jobs, (Deferral::Rate, Duration::ZERO), due, now))
}
