//! Deduplication of a submitted event by its deliveries: which of the deliveries it owes go
//! on the queue now, and whether the event counts as a duplicate.

use super::ids::EndpointId;

/// What ingest does with one event, given which of its deliveries already have records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed<T = EndpointId> {
    /// The deliveries to enqueue: every target without a record. Also for an event seen
    /// before, since one may never have been enqueued (a retry after a failed enqueue) or
    /// may still wait in the queue, where the copy's delivery id makes it one send.
    pub fresh: Vec<T>,
    /// Every delivery already under way or done: nothing is enqueued.
    pub duplicate: bool,
}

/// `seen[i]` says whether the delivery to `targets[i]` has a record; a missing answer
/// counts as unseen, which at worst enqueues a copy the worker absorbs.
pub fn owed<T: Clone>(targets: &[T], seen: &[bool]) -> Owed<T> {
    let fresh: Vec<T> = targets
        .iter()
        .enumerate()
        .filter(|&(i, _)| !seen.get(i).copied().unwrap_or(false))
        .map(|(_, endpoint)| endpoint.clone())
        .collect();
    Owed {
        duplicate: !targets.is_empty() && fresh.is_empty(),
        fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<EndpointId> {
        names
            .iter()
            .map(|n| EndpointId::parse(n).unwrap())
            .collect()
    }

    #[test]
    fn a_new_event_owes_every_target() {
        let targets = ids(&["ep_a", "ep_b"]);
        assert_eq!(
            owed(&targets, &[false, false]),
            Owed {
                fresh: targets.clone(),
                duplicate: false
            }
        );
    }

    #[test]
    fn an_event_whose_deliveries_all_have_records_is_a_duplicate() {
        let targets = ids(&["ep_a", "ep_b"]);
        assert_eq!(
            owed(&targets, &[true, true]),
            Owed {
                fresh: vec![],
                duplicate: true
            }
        );
    }

    #[test]
    fn a_partly_seen_event_owes_the_rest_and_is_no_duplicate() {
        let targets = ids(&["ep_a", "ep_b", "ep_c"]);
        assert_eq!(
            owed(&targets, &[true, false, true]),
            Owed {
                fresh: ids(&["ep_b"]),
                duplicate: false
            }
        );
    }

    #[test]
    fn no_targets_is_no_duplicate_and_a_short_answer_counts_as_unseen() {
        assert_eq!(
            owed::<EndpointId>(&[], &[]),
            Owed {
                fresh: vec![],
                duplicate: false
            }
        );
        let targets = ids(&["ep_a", "ep_b"]);
        assert_eq!(
            owed(&targets, &[true]),
            Owed {
                fresh: ids(&["ep_b"]),
                duplicate: false
            }
        );
    }
}
