//! The reckoning after a run: what was accepted (events × matching endpoints), what the
//! receivers got with a 2xx, what the failures store holds, and what is neither — lost.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use authhooks::domain::ids::EndpointId;
use authhooks::ports::{FailureFilter, FailureStore, PageRequest, PortError};

use super::faults::Fault;
use super::receiver::FaultyReceiver;
use super::run::{Ingested, Stats};
use super::{event_id, event_type, subscribes, ChaosConfig};

/// An endpoint as the run set it up.
pub struct Planned {
    pub name: String,
    pub id: EndpointId,
    pub patterns: Vec<&'static str>,
    pub dead: bool,
    pub receiver: FaultyReceiver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub name: String,
    pub dead: bool,
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
    /// Nothing lost, nothing unexplained, nothing left in the queues.
    pub fn lost_nothing(&self) -> bool {
        self.lost == 0 && self.stats.drained && self.accepted == self.ingest_deliveries
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
            EndpointRow {
                name: p.name.clone(),
                dead: p.dead,
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
        failed_on_flaky: rows.iter().filter(|r| !r.dead).map(|r| r.failed).sum(),
        bad_signatures,
        reposted_events: ingested.reposted_events,
        repost_duplicates: ingested.repost_duplicates,
        repost_mismatches: ingested.repost_mismatches,
        stats,
        endpoints: rows,
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<9} {:>9} {:>9} {:>6} {:>7} {:>5} {:>9}  faults injected (requests by answer)",
            "endpoint", "accepted", "delivered", "dups", "failed", "lost", "requests"
        )?;
        for r in &self.endpoints {
            let faults: Vec<String> = r
                .faults
                .iter()
                .map(|(k, n)| format!("{}={n}", k.name()))
                .collect();
            writeln!(
                f,
                "{:<9} {:>9} {:>9} {:>6} {:>7} {:>5} {:>9}  {}",
                r.name,
                r.expected,
                r.delivered,
                r.duplicates,
                r.failed,
                r.lost,
                r.requests,
                faults.join(" ")
            )?;
        }
        writeln!(
            f,
            "{:<9} {:>9} {:>9} {:>6} {:>7} {:>5}",
            "total", self.accepted, self.delivered, self.duplicates, self.failed, self.lost
        )?;
        writeln!(f)?;
        writeln!(f, "events                  {}", self.events)?;
        writeln!(
            f,
            "accepted (owed)         {}  (ingest said {})",
            self.accepted, self.ingest_deliveries
        )?;
        writeln!(f, "delivered (unique 2xx)  {}", self.delivered)?;
        writeln!(f, "duplicates seen         {}", self.duplicates)?;
        writeln!(
            f,
            "recorded as failed      {}  (on flaky endpoints: {})",
            self.failed, self.failed_on_flaky
        )?;
        writeln!(f, "delivered and failed    {}", self.delivered_and_failed)?;
        writeln!(f, "unexpected              {}", self.unexpected)?;
        writeln!(f, "bad signatures          {}", self.bad_signatures)?;
        writeln!(
            f,
            "re-posted events        {}  (answered duplicate: {}, answered otherwise than at first: {})",
            self.reposted_events, self.repost_duplicates, self.repost_mismatches
        )?;
        writeln!(f, "jobs queued twice       {}", self.stats.duplicated_jobs)?;
        writeln!(
            f,
            "workers killed          {}  (with a batch in hand: {})",
            self.stats.kills, self.stats.kills_mid_batch
        )?;
        writeln!(
            f,
            "queues drained          {}  (left: {})",
            self.stats.drained, self.stats.leftover
        )?;
        writeln!(
            f,
            "elapsed                 {:.1} s",
            secs(self.stats.elapsed)
        )?;
        write!(f, "LOST                    {}", self.lost)
    }
}
