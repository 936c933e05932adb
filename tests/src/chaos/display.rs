//! The chaos report as a table and a summary, for the command line and test output.

use std::fmt;
use std::time::Duration;

use super::tally::ChaosReport;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<9} {:>9} {:>9} {:>6} {:>6} {:>7} {:>5} {:>9} {:>9}  faults injected (requests by answer)",
            "endpoint", "accepted", "delivered", "dups", "≤bound", "failed", "lost", "requests", "≤bound"
        )?;
        for r in &self.endpoints {
            let faults: Vec<String> = r
                .faults
                .iter()
                .map(|(k, n)| format!("{}={n}", k.name()))
                .collect();
            let requests_bound = r.requests_bound.map(|b| b.to_string()).unwrap_or_default();
            writeln!(
                f,
                "{:<9} {:>9} {:>9} {:>6} {:>6} {:>7} {:>5} {:>9} {:>9}  {}",
                r.name,
                r.expected,
                r.delivered,
                r.duplicates,
                r.duplicates_bound,
                r.failed,
                r.lost,
                r.requests,
                requests_bound,
                faults.join(" ")
            )?;
        }
        let causes = self.causes();
        let bound: u64 = self.endpoints.iter().map(|r| r.duplicates_bound).sum();
        writeln!(
            f,
            "{:<9} {:>9} {:>9} {:>6} {:>6} {:>7} {:>5}",
            "total", self.accepted, self.delivered, self.duplicates, bound, self.failed, self.lost
        )?;
        writeln!(f)?;
        writeln!(f, "events                  {}", self.events)?;
        writeln!(
            f,
            "accepted (owed)         {}  (ingest said {})",
            self.accepted, self.ingest_deliveries
        )?;
        writeln!(f, "delivered (unique 2xx)  {}", self.delivered)?;
        writeln!(
            f,
            "duplicates seen         {}  (bound {bound}: unread 2xx {}, killed in hand {}, queued twice {}, re-posted {}, held past visibility {})",
            self.duplicates,
            causes.unread_success,
            causes.killed_in_hand,
            causes.queued_twice,
            causes.reposted,
            causes.overdue_in_hand
        )?;
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
            "worker queue errors     {}  (re-enqueue calls refused {} with {} jobs, dead-letter calls refused {} with {} letters; messages sent and left queued {})",
            self.stats.enqueue_errors + self.stats.dead_letter_errors,
            self.stats.enqueue_errors,
            causes.enqueue_refused,
            self.stats.dead_letter_errors,
            causes.dead_letter_refused,
            causes.sent_then_left
        )?;
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
        let ordered: Vec<String> = self
            .endpoints
            .iter()
            .filter(|r| r.ordered)
            .map(|r| {
                format!(
                    "{} {} over {} subjects",
                    r.name, r.inversions, r.subjects_in_order
                )
            })
            .collect();
        writeln!(
            f,
            "ordered endpoints       {}  (inversions over subjects with several changes: {})",
            ordered.len(),
            ordered.join(", ")
        )?;
        writeln!(f, "INVERSIONS              {}", self.inversions)?;
        writeln!(f, "LOST                    {}", self.lost)?;
        match self.verdict() {
            Ok(()) => write!(f, "VERDICT                 ok"),
            Err(wrong) => write!(f, "VERDICT                 FAILED: {}", wrong.join("; ")),
        }
    }
}
