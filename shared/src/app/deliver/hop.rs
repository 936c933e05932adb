//! Jobs not due yet (a `not_before` beyond the queue's delay limit): carried forward one
//! more hop, unless their endpoint was recovered since their wait was decided — then they
//! go now. One state read per endpoint with such jobs in the batch; none without.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{FollowUp, Taken, Worker};
use crate::domain::delivery::schedule;
use crate::domain::ids::EndpointId;
use crate::domain::recovery::cuts_short;
use crate::ports::Enqueue;

/// Splits waiting jobs into those that go now and the hops of the rest.
pub(super) async fn sort(
    worker: &Worker,
    waiting: Vec<Taken>,
    now: DateTime<Utc>,
) -> (Vec<Taken>, Vec<(String, FollowUp)>) {
    let mut recovered: BTreeMap<EndpointId, Option<DateTime<Utc>>> = BTreeMap::new();
    let (mut due, mut hops) = (Vec::new(), Vec::new());
    for mut taken in waiting {
        let id = taken.job.endpoint_id.clone();
        let at = match recovered.get(&id) {
            Some(at) => *at,
            None => {
                // Unreadable state: the job hops as it would have, and looks again next hop.
                let at = match worker.state.load(&id).await {
                    Ok(state) => state.value.recovered_at,
                    Err(e) => {
                        tracing::warn!(endpoint_id = %id, error = %e, "endpoint state unavailable; waiting jobs hop");
                        None
                    }
                };
                recovered.insert(id, at);
                at
            }
        };
        let last_attempt = taken.job.history.last().map(|a| a.at);
        if cuts_short(at, last_attempt, now) {
            tracing::info!(delivery_id = %taken.job.delivery_id, endpoint_id = %taken.job.endpoint_id, "endpoint recovered; its wait is cut short");
            taken.job.not_before = None;
            due.push(taken);
            continue;
        }
        let Some(not_before) = taken.job.not_before else {
            due.push(taken);
            continue;
        };
        let (delay, next) = schedule(not_before, now);
        let mut job = taken.job;
        job.not_before = next;
        hops.push((
            taken.message_id,
            FollowUp::Enqueue {
                enqueue: Enqueue { job, delay },
                claim: None,
            },
        ));
    }
    (due, hops)
}
