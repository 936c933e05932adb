//! The delivery log as the admin API shows it: a search of recent attempts, and the
//! overview of the last hour and day from the five-minute tallies.

use serde::Serialize;

use super::admin::{Admin, AdminError};
use crate::domain::delivery_log::{LogEntry, LogQuery, Summary, Tally, TALLY_MINUTES};
use crate::ports::{Page, PageRequest};

/// `GET /v1/deliveries/overview`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub last_hour: Summary,
    pub last_day: Summary,
    /// The minutes each tally covers; the last hour and day are whole tallies, the current
    /// one included, so they reach back up to one tally further.
    pub bucket_minutes: i64,
}

const HOUR_MINUTES: i64 = 60;
const DAY_MINUTES: i64 = 24 * 60;

impl Admin {
    pub async fn search_deliveries(
        &self,
        query: &LogQuery,
        page: PageRequest,
    ) -> Result<Page<LogEntry>, AdminError> {
        Ok(self.log.search(query, page, self.clock.now()).await?)
    }

    pub async fn delivery_overview(&self) -> Result<Overview, AdminError> {
        let buckets = Tally::buckets_since(self.clock.now(), DAY_MINUTES);
        let tallies = self.log.tallies(&buckets).await?;
        let in_hour = usize::try_from(HOUR_MINUTES / TALLY_MINUTES).unwrap_or(usize::MAX);
        let mut hour = Tally::default();
        let mut day = Tally::default();
        for (n, tally) in tallies.iter().enumerate() {
            if n < in_hour {
                hour.merge(tally);
            }
            day.merge(tally);
        }
        Ok(Overview {
            last_hour: hour.summary(),
            last_day: day.summary(),
            bucket_minutes: TALLY_MINUTES,
        })
    }
}
