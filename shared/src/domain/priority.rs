//! The priority lane (docs/architecture.md §3.14): event types whose deliveries travel on a
//! queue of their own, so a backlog of bulk events never delays a revoked session or a
//! banned user reaching the systems that must act on it.

use super::delivery::DeliveryJob;
use super::event::EventType;

/// What revokes access: a receiver that hears of it late keeps a session, a key or a
/// banned user alive for as long.
pub const DEFAULT_PRIORITY_TYPES: [&str; 4] = [
    "session.revoked",
    "user.banned",
    "user.deleted",
    "api_key.revoked",
];

/// Which deliveries queue a job travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Standard,
    Ordered,
    Priority,
}

/// The event types on the priority lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityTypes(Vec<EventType>);

impl Default for PriorityTypes {
    fn default() -> Self {
        Self(
            DEFAULT_PRIORITY_TYPES
                .iter()
                .filter_map(|t| EventType::parse(t).ok())
                .collect(),
        )
    }
}

impl PriorityTypes {
    /// A comma-separated list of exact event types; empty means no priority lane.
    pub fn parse(list: &str) -> Result<PriorityTypes, String> {
        list.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| EventType::parse(t).map_err(|e| format!("{t}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(PriorityTypes)
    }

    pub fn contains(&self, event_type: &EventType) -> bool {
        self.0.contains(event_type)
    }

    /// The queue a job or fan-out task of `event_type` goes to: an ordered one (it has a
    /// line) keeps its subject's order, which beats priority; an unordered one of a
    /// priority type takes the lane; any other the standard queue.
    pub fn lane(&self, ordered: bool, event_type: &EventType) -> Lane {
        match (ordered, self.contains(event_type)) {
            (true, _) => Lane::Ordered,
            (false, true) => Lane::Priority,
            (false, false) => Lane::Standard,
        }
    }

    /// The queue a job goes to: [`Self::lane`] of its own type, or the lane if any job it
    /// carries (a batch's, §3.15) is of a priority type, so a revocation never waits
    /// behind bulk for having been batched with it.
    pub fn lane_of(&self, job: &DeliveryJob) -> Lane {
        let priority = |job: &DeliveryJob| self.contains(&job.event.event_type);
        match self.lane(job.order_key.is_some(), &job.event.event_type) {
            Lane::Standard if job.gathered.iter().any(priority) => Lane::Priority,
            lane => lane,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The list as it is written: comma-separated.
impl std::fmt::Display for PriorityTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(EventType::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn t(s: &str) -> EventType {
        EventType::parse(s).unwrap()
    }

    #[test]
    fn revocations_are_the_default_and_a_list_replaces_them() {
        let default = PriorityTypes::default();
        assert!(default.contains(&t("session.revoked")));
        assert!(default.contains(&t("api_key.revoked")));
        assert!(!default.contains(&t("user.updated")));
        let mine = PriorityTypes::parse(" user.updated , billing.failed").unwrap();
        assert!(mine.contains(&t("billing.failed")));
        assert!(!mine.contains(&t("session.revoked")));
        assert!(PriorityTypes::parse("").unwrap().is_empty());
        assert_eq!(default.lane(false, &t("session.revoked")), Lane::Priority);
        assert_eq!(default.lane(true, &t("session.revoked")), Lane::Ordered);
        assert_eq!(default.lane(false, &t("user.updated")), Lane::Standard);
        assert!(PriorityTypes::parse("user.*")
            .unwrap_err()
            .starts_with("user.*: "));
        assert_eq!(
            default.to_string(),
            "session.revoked,user.banned,user.deleted,api_key.revoked"
        );
        assert_eq!(PriorityTypes::parse(&default.to_string()).unwrap(), default);
    }
}
