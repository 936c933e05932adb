//! Sends the worker's notices (domain::operational) through ingest's fan-out. Best effort:
//! the transition they report is already stored, and a notice lost to an unavailable
//! queue is logged rather than allowed to hold the deliveries up or send them twice.

use super::Worker;
use crate::domain::operational::Notice;

pub(super) async fn notify(worker: &Worker, notices: &[Notice<'_>]) {
    let now = worker.clock.now();
    let events: Vec<_> = notices.iter().filter_map(|n| n.event(now)).collect();
    if events.is_empty() {
        return;
    }
    let count = events.len();
    if let Err(e) = worker.notices.notify(events).await {
        tracing::warn!(error = %e, count, "operational events not sent");
    }
}
