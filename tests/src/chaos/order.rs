//! The order check on what an ordered endpoint's receiver saw: per subject, first receipts
//! in acceptance order (the events' indexes) and with increasing `sequence`.

use std::collections::HashMap;

use super::event_index;

/// The first receipts that came out of acceptance order within their subject, described:
/// an event whose index is below one already received, or whose `sequence` is not above
/// the last one's (what a receiver's stale guard compares). Also how many subjects had more
/// than one event to order.
pub(super) fn inversions(
    firsts: &HashMap<String, Vec<(String, Option<u64>)>>,
) -> (Vec<String>, usize) {
    let mut inverted = Vec::new();
    for (subject, receipts) in firsts {
        let mut highest: Option<(usize, u64, &str)> = None;
        for (id, sequence) in receipts {
            let index = event_index(id).unwrap_or(usize::MAX);
            let sequence = sequence.unwrap_or(0);
            match highest {
                Some((i, s, before)) if index < i || sequence <= s => inverted.push(format!(
                    "{subject}: {id} (sequence {sequence}) after {before} (sequence {s})"
                )),
                _ => highest = Some((index, sequence, id)),
            }
        }
    }
    let several = firsts.values().filter(|r| r.len() > 1).count();
    (inverted, several)
}
