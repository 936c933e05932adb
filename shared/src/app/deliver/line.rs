//! Lines: an endpoint's admitted jobs grouped by order key. An ordered line (one subject at
//! one endpoint) is attempted one job after the other, in the order its queue handed them
//! over, and stops at the first that does not finish, or once the batch has used its time
//! (`line_budget`): the jobs behind are left on the queue, visible again at once, and the
//! FIFO queue keeps them behind their held head. Unordered jobs are lines of one. All lines
//! run concurrently.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use tracing::Instrument;

use super::attempt::attempt;
use super::attempted::Attempted;
use super::{FollowUp, Taken, Worker};
use crate::domain::endpoint::Endpoint;

/// The jobs' outcomes, each line's in its order. `recovered_at`: when the endpoint was
/// last recovered by hand, which cuts short the waits of ordered jobs decided before it.
pub(super) async fn run(
    worker: &Worker,
    endpoint: &Endpoint,
    jobs: Vec<Taken>,
    recovered_at: Option<DateTime<Utc>>,
) -> Vec<Attempted> {
    let lines = join_all(
        split(jobs)
            .into_iter()
            .map(|line| run_line(worker, endpoint, line, recovered_at)),
    );
    lines.await.into_iter().flatten().collect()
}

/// Groups jobs by order key, keeping their order within each line.
pub(super) fn split(jobs: Vec<Taken>) -> Vec<Vec<Taken>> {
    let mut lines: Vec<Vec<Taken>> = Vec::new();
    let mut by_key = HashMap::new();
    for taken in jobs {
        match taken.job.order_key.clone() {
            Some(key) => {
                let at = *by_key.entry(key).or_insert_with(|| {
                    lines.push(Vec::new());
                    lines.len() - 1
                });
                if let Some(line) = lines.get_mut(at) {
                    line.push(taken);
                }
            }
            None => lines.push(vec![taken]),
        }
    }
    lines
}

/// A job behind an unfinished one of its line: not attempted, back on the queue now.
pub(super) fn behind(taken: Taken) -> Attempted {
    Attempted::Waiting(
        taken.message_id,
        Box::new(FollowUp::Hold {
            receipt_handle: taken.receipt_handle,
            delay: Duration::ZERO,
        }),
    )
}

async fn run_line(
    worker: &Worker,
    endpoint: &Endpoint,
    line: Vec<Taken>,
    recovered_at: Option<DateTime<Utc>>,
) -> Vec<Attempted> {
    let started = worker.clock.now();
    let budget = chrono::Duration::from_std(worker.settings.line_budget).unwrap_or_default();
    let mut out = Vec::with_capacity(line.len());
    let mut open = true;
    for (n, taken) in line.into_iter().enumerate() {
        if n > 0 && worker.clock.now() - started > budget {
            open = false;
        }
        if !open {
            out.push(behind(taken));
            continue;
        }
        // One span per attempt; `attempt` and `status` are recorded as they become known.
        let span = tracing::info_span!(
            "deliver",
            event_id = %taken.job.event.id,
            delivery_id = %taken.job.delivery_id,
            endpoint_id = %taken.job.endpoint_id,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        if let Some(trace) = &taken.job.trace {
            crate::telemetry::follow(&span, trace);
        }
        let done = attempt(worker, endpoint, taken, recovered_at)
            .instrument(span)
            .await;
        open = done.lets_line_go_on();
        out.push(done);
    }
    out
}
