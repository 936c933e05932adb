//! `recover`: an operator's word that an endpoint is back, send now. Its circuit closes at
//! once, and every wait decided before it — a retry scheduled minutes or hours ahead, a
//! deferral — is cut short at the job's next look ([`cuts_short`]). How soon that look comes
//! depends on the queue (docs/operations.md): in memory the queue brings the endpoint's
//! waiting messages forward at once; on SQS they cannot be found, so a standard queue's job
//! looks at its next hop (within 15 minutes) and an ordered job when its hold ends.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::admission::EndpointState;
use super::circuit::CircuitState;
use super::delivery::MAX_QUEUE_DELAY;

/// How long after a recover a job never attempted still takes it as meant for itself. Such
/// a job waits only on a deferral (admission decides afresh when it goes), and one waiting
/// longer than the queue's delay hops at least every 15 minutes, so twice that reaches each
/// of them once, even a late one, without sending every later deferral round again.
pub const REACH: Duration = Duration::from_secs(2 * MAX_QUEUE_DELAY.as_secs());

/// The state after a recover at `now`: the circuit closed (failures forgotten), the time
/// recorded; the rate limit's bucket is kept, so a backlog still goes at the endpoint's pace.
pub fn recovered(state: &EndpointState, now: DateTime<Utc>) -> EndpointState {
    EndpointState {
        circuit: CircuitState::Closed { failures: 0 },
        bucket: state.bucket,
        recovered_at: Some(now),
    }
}

/// Whether a job that is not due yet goes now because its endpoint was recovered after its
/// wait was decided: after its last attempt (`last_attempt`), or, for a job never attempted,
/// within [`REACH`] of `now`. A retry decided after the recover (the endpoint failed again)
/// keeps its time.
pub fn cuts_short(
    recovered_at: Option<DateTime<Utc>>,
    last_attempt: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(recovered) = recovered_at.filter(|at| *at <= now) else {
        return false;
    };
    match last_attempt {
        Some(attempted) => attempted < recovered,
        None => (now - recovered).to_std().is_ok_and(|since| since <= REACH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_recover_closes_the_circuit_and_keeps_the_bucket() {
        let open = EndpointState {
            circuit: CircuitState::Open {
                opened_at: t(0),
                open_since: t(0),
            },
            bucket: None,
            recovered_at: None,
        };
        let back = recovered(&open, t(30));
        assert_eq!(back.circuit, CircuitState::Closed { failures: 0 });
        assert_eq!(back.recovered_at, Some(t(30)));
    }

    #[test]
    fn waits_decided_before_the_recover_are_cut_short_later_ones_are_not() {
        let at = Some(t(1_000));
        // Never recovered, or recovered in the future of this look: nothing changes.
        assert!(!cuts_short(None, Some(t(0)), t(2_000)));
        assert!(!cuts_short(at, Some(t(0)), t(999)));
        // A retry scheduled by an attempt before the recover goes, however long after.
        assert!(cuts_short(at, Some(t(0)), t(1_000)));
        assert!(cuts_short(at, Some(t(999)), t(1_000 + 86_400)));
        // One scheduled by an attempt after it (the endpoint failed again) keeps its time.
        assert!(!cuts_short(at, Some(t(1_000)), t(2_000)));
        // A deferred job, never attempted, goes within reach of the recover only.
        assert!(cuts_short(at, None, t(1_000 + 1_800)));
        assert!(!cuts_short(at, None, t(1_000 + 1_801)));
    }
}
