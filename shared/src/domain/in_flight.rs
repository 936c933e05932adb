//! The cap on one endpoint's attempts in flight: a receiver that never answers holds its
//! attempts until their timeout, and without a cap its jobs would take every slot a worker
//! has, starving the healthy endpoints behind them. Jobs over the cap wait like rate-limited
//! ones, no attempt counted.

use std::time::Duration;

/// Attempts one endpoint may have in flight in one worker process when none is configured:
/// a batch's worth (SQS hands out ten at most), so one batch for one endpoint is never held
/// back, while a process holding many batches (local mode) keeps slots for the others.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 10;

/// How long local mode lets an endpoint's share of a batch wait for the endpoint's slots
/// before handing it to the worker, which defers what cannot start: long enough for a
/// healthy endpoint's attempts (milliseconds) to end, short enough that a hanging one holds
/// its consumer's room only briefly (`local::gates`).
pub const SLOT_PATIENCE: Duration = Duration::from_millis(500);

/// The longest a job over the cap waits before it is tried again. An attempt in flight ends
/// within its endpoint's timeout, mostly much sooner: waiting the whole timeout would make
/// a busy but healthy endpoint slow.
const MAX_BUSY_WAIT: Duration = Duration::from_secs(2);

/// How many of `wanted` jobs may start now with `in_flight` attempts already running under
/// `cap`. A cap of zero is read as one: an endpoint is never shut out by its setting.
pub fn room(cap: u32, in_flight: u32, wanted: u32) -> u32 {
    cap.max(1).saturating_sub(in_flight).min(wanted)
}

/// How long a job over the cap waits: until a slot is likely free, at most the endpoint's
/// timeout (by when every attempt in flight has ended).
pub fn busy_wait(timeout: Duration) -> Duration {
    timeout.min(MAX_BUSY_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_what_the_cap_leaves_and_never_more_than_wanted() {
        assert_eq!(room(8, 0, 10), 8);
        assert_eq!(room(8, 5, 10), 3);
        assert_eq!(room(8, 5, 2), 2);
        assert_eq!(room(8, 8, 1), 0);
        assert_eq!(room(8, 9, 1), 0);
        assert_eq!(room(0, 0, 3), 1);
    }

    #[test]
    fn a_busy_job_waits_at_most_the_timeout() {
        assert_eq!(
            busy_wait(Duration::from_millis(300)),
            Duration::from_millis(300)
        );
        assert_eq!(busy_wait(Duration::from_secs(30)), MAX_BUSY_WAIT);
    }
}
