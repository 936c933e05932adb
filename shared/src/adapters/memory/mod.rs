//! In-memory adapters with the semantics of the real ones (conditional writes, lazy expiry,
//! queue delays and visibility), for local mode and for tests that mean something.

mod clock;
mod delivery_log;
mod endpoints;
mod failures;
mod queue;
mod sources;
mod state;

pub use clock::{ManualClock, SeededEntropy};
pub use delivery_log::MemoryDeliveryLog;
pub use endpoints::MemoryEndpointStore;
pub use failures::MemoryFailureStore;
pub use queue::{MemoryQueue, QueueSettings, Wakeup, DEDUP_WINDOW};
pub use sources::MemorySourceStore;
pub use state::MemoryStateStore;

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if another thread panicked while holding it: every
/// critical section here leaves the data consistent, so the poison carries no meaning.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
