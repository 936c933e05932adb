//! The reckoning after a run: what was accepted (events × matching endpoints), what the
//! receivers got with a 2xx, what the failures store holds, and what is neither — lost;
//! then the one verdict on all of it, shared by the CI test and the command line.

use std::collections::{HashMap, HashSet};

use authhooks::domain::ids::EndpointId;
use authhooks::ports::{FailureFilter, FailureStore, PageRequest, PortError};

use super::causes::{dead_requests_bound, duplicates_bound, Causes};
use super::faults::{Behaviour, Fault};
use super::ingest::Ingested;
use super::order::inversions;
use super::receiver::FaultyReceiver;
use super::run::Stats;
use super::{event_id, event_type, subscribes, ChaosConfig};

/// An endpoint as the run set it up.
pub struct Planned {
    pub name: String,
    pub id: EndpointId,
    pub patterns: Vec<&'static str>,
    pub dead: bool,
    /// Ordered by subject.
    pub ordered: bool,
    pub behaviour: Behaviour,
    pub receiver: FaultyReceiver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub name: String,
    pub dead: bool,
    pub ordered: bool,
    /// First receipts out of acceptance order within their subject (by event index or by
    /// `sequence`); must be 0 at an ordered endpoint.
    pub inversions: usize,
    /// Subjects with more than one event received: what the order was judged on.
    pub subjects_in_order: usize,
    /// A few of the inversions, each as "subject: event after event (sequences)".
    pub inverted: Vec<String>,
    /// Deliveries owed: events of a type it subscribes to.
    pub expected: usize,
    /// Owed deliveries the receiver answered 2xx at least once.
    pub delivered: usize,
    /// Extra 2xx answers for an id it had already answered 2xx.
    pub duplicates: usize,
    /// Owed deliveries in the failures store.
    pub failed: usize,
    /// Owed deliveries both received and recorded as failed.
    pub delivered_and_failed: usize,
    /// Owed deliveries neither received nor recorded.
    pub lost: usize,
    /// 2xx answers or failure records for events it was not owed.
    pub unexpected: usize,
    pub requests: u64,
    pub faults: Vec<(Fault, u64)>,
    /// What the harness did that may send one of its deliveries again.
    pub causes: Causes,
    /// The most duplicates `causes` explain (see [`duplicates_bound`](super::causes::duplicates_bound)).
    pub duplicates_bound: u64,
    /// The most requests its deliveries may take (dead endpoint only; see
    /// [`dead_requests_bound`](super::causes::dead_requests_bound)).
    pub requests_bound: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ChaosReport {
    pub events: usize,
    /// Deliveries owed, by the harness's own matching.
    pub accepted: usize,
    /// Deliveries ingest said it enqueued (must equal `accepted`).
    pub ingest_deliveries: usize,
    pub delivered: usize,
    pub duplicates: usize,
    pub failed: usize,
    pub delivered_and_failed: usize,
    pub lost: usize,
    pub unexpected: usize,
    /// Inversions at ordered endpoints.
    pub inversions: usize,
    /// Failures on endpoints that only fail on purpose early: must be 0.
    pub failed_on_flaky: usize,
    pub bad_signatures: u64,
    pub reposted_events: usize,
    pub repost_duplicates: usize,
    pub repost_mismatches: usize,
    pub stats: Stats,
    pub endpoints: Vec<EndpointRow>,
}

impl ChaosReport {
    /// Every property a run must have, each violated one described: the queues drained,
    /// ingest fanned out as the harness's own matching says, nothing lost, nothing owed to
    /// nobody, nothing badly signed, re-posts answered as at first, every flaky delivery
    /// delivered and every dead one recorded as failed (and nothing both), no endpoint
    /// with more duplicates than the harness's doings explain, and the dead endpoint tried
    /// no more often than its schedule allows them.
    pub fn verdict(&self) -> Result<(), Vec<String>> {
        let mut wrong = Vec::new();
        let mut check = |ok: bool, why: String| {
            if !ok {
                wrong.push(why);
            }
        };
        check(
            self.stats.drained,
            format!(
                "the queues never drained ({} messages left)",
                self.stats.leftover
            ),
        );
        check(
            self.accepted == self.ingest_deliveries,
            format!(
                "ingest fanned out {} deliveries, the harness's matching {}",
                self.ingest_deliveries, self.accepted
            ),
        );
        check(self.lost == 0, format!("{} deliveries lost", self.lost));
        check(
            self.unexpected == 0,
            format!("{} deliveries nobody owed", self.unexpected),
        );
        check(
            self.bad_signatures == 0,
            format!("{} requests with a bad signature", self.bad_signatures),
        );
        check(
            self.repost_mismatches == 0,
            format!(
                "{} re-posted events answered otherwise than at first",
                self.repost_mismatches
            ),
        );
        check(
            self.failed_on_flaky == 0,
            format!("{} flaky deliveries given up on", self.failed_on_flaky),
        );
        check(
            self.delivered_and_failed == 0,
            format!(
                "{} deliveries both delivered and recorded as failed",
                self.delivered_and_failed
            ),
        );
        check(
            self.delivered + self.failed == self.accepted,
            format!(
                "delivered {} + failed {} != accepted {}",
                self.delivered, self.failed, self.accepted
            ),
        );
        match self.endpoints.iter().find(|r| r.dead) {
            None => check(false, "no dead endpoint in the report".into()),
            Some(dead) => {
                check(
                    dead.expected > 0,
                    "the dead endpoint was owed nothing".into(),
                );
                check(
                    dead.failed == dead.expected,
                    format!(
                        "the dead endpoint: {} of {} deliveries recorded as failed",
                        dead.failed, dead.expected
                    ),
                );
            }
        }
        check(
            self.inversions == 0,
            format!(
                "{} deliveries reached an ordered endpoint out of their subject's order",
                self.inversions
            ),
        );
        for row in &self.endpoints {
            check(
                !row.ordered || row.inversions == 0,
                format!(
                    "{}: {} inversions ({})",
                    row.name,
                    row.inversions,
                    row.inverted.join("; ")
                ),
            );
            check(
                row.dead || row.delivered == row.expected,
                format!(
                    "{}: {} of {} deliveries delivered",
                    row.name, row.delivered, row.expected
                ),
            );
            check(
                row.duplicates as u64 <= row.duplicates_bound,
                format!(
                    "{}: {} duplicates, more than the {} its causes explain ({:?})",
                    row.name, row.duplicates, row.duplicates_bound, row.causes
                ),
            );
            if let Some(bound) = row.requests_bound {
                check(
                    row.requests <= bound,
                    format!(
                        "{}: {} requests, more than the {} its schedule and causes allow ({:?})",
                        row.name, row.requests, bound, row.causes
                    ),
                );
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong)
        }
    }

    /// The causes summed over endpoints.
    pub fn causes(&self) -> Causes {
        self.endpoints
            .iter()
            .fold(Causes::default(), |t, r| t.plus(&r.causes))
    }
}

/// Every failure record, page by page.
pub async fn all_failures(
    store: &dyn FailureStore,
) -> Result<Vec<(EndpointId, String)>, PortError> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let got = store.list(&FailureFilter::default(), page.clone()).await?;
        out.extend(
            got.items
                .into_iter()
                .map(|r| (r.endpoint_id, r.event_id.as_str().to_owned())),
        );
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

pub(super) fn tally(
    config: &ChaosConfig,
    planned: &[Planned],
    ingested: &Ingested,
    failures: &[(EndpointId, String)],
    stats: Stats,
) -> ChaosReport {
    let mut failed_by: HashMap<&EndpointId, HashSet<&str>> = HashMap::new();
    for (endpoint, event) in failures {
        failed_by.entry(endpoint).or_default().insert(event);
    }
    let mut bad_signatures = 0;
    let rows: Vec<EndpointRow> = planned
        .iter()
        .map(|p| {
            let owed: HashSet<String> = (0..config.events)
                .filter(|&i| subscribes(&p.patterns, event_type(config.seed, i, config.dead_every)))
                .map(|i| event_id(config.seed, i))
                .collect();
            let seen = p.receiver.seen();
            let failed = failed_by.get(&p.id).cloned().unwrap_or_default();
            let got = |id: &String| seen.successes.contains_key(id);
            let recorded = |id: &String| failed.contains(id.as_str());
            bad_signatures += seen.faults.get(&Fault::BadSignature).copied().unwrap_or(0);
            let mut faults: Vec<(Fault, u64)> = seen.faults.into_iter().collect();
            faults.sort();
            let mut causes = stats.causes.get(&p.id).copied().unwrap_or_default();
            causes.reposted = ingested
                .reposted_types
                .iter()
                .filter(|t| subscribes(&p.patterns, t))
                .count() as u64;
            let (inverted, subjects_in_order) = inversions(&seen.firsts);
            let inversions = inverted.len();
            EndpointRow {
                name: p.name.clone(),
                dead: p.dead,
                ordered: p.ordered,
                inversions,
                subjects_in_order,
                inverted: inverted.into_iter().take(5).collect(),
                expected: owed.len(),
                delivered: owed.iter().filter(|id| got(id)).count(),
                duplicates: seen
                    .successes
                    .values()
                    .map(|n| n.saturating_sub(1) as usize)
                    .sum(),
                failed: owed.iter().filter(|id| recorded(id)).count(),
                delivered_and_failed: owed.iter().filter(|id| got(id) && recorded(id)).count(),
                lost: owed.iter().filter(|id| !got(id) && !recorded(id)).count(),
                unexpected: seen
                    .successes
                    .keys()
                    .filter(|id| !owed.contains(*id))
                    .count()
                    + failed.iter().filter(|id| !owed.contains(**id)).count(),
                requests: p.receiver.requests(),
                faults,
                duplicates_bound: duplicates_bound(&causes),
                requests_bound: p.dead.then(|| dead_requests_bound(owed.len(), &causes)),
                causes,
            }
        })
        .collect();
    let sum = |f: fn(&EndpointRow) -> usize| rows.iter().map(f).sum::<usize>();
    ChaosReport {
        events: config.events,
        accepted: sum(|r| r.expected),
        ingest_deliveries: ingested.deliveries,
        delivered: sum(|r| r.delivered),
        duplicates: sum(|r| r.duplicates),
        failed: sum(|r| r.failed),
        delivered_and_failed: sum(|r| r.delivered_and_failed),
        lost: sum(|r| r.lost),
        unexpected: sum(|r| r.unexpected),
        inversions: rows
            .iter()
            .filter(|r| r.ordered)
            .map(|r| r.inversions)
            .sum(),
        failed_on_flaky: rows.iter().filter(|r| !r.dead).map(|r| r.failed).sum(),
        bad_signatures,
        reposted_events: ingested.reposted_events,
        repost_duplicates: ingested.repost_duplicates,
        repost_mismatches: ingested.repost_mismatches,
        stats,
        endpoints: rows,
    }
}
