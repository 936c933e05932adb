//! Attempts in flight per endpoint in this worker process, counted so that one endpoint's
//! hanging attempts cannot take every slot ([`crate::domain::in_flight`]). In-process only:
//! a slot held across processes would need a write per batch and could leak with a crashed
//! worker (docs/architecture.md says what bounds the rest on AWS).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::domain::ids::EndpointId;
use crate::domain::in_flight;

/// The counts, shared by every clone of a worker.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: Mutex<HashMap<EndpointId, u32>>,
}

impl InFlight {
    /// Takes as many of `wanted` slots as the cap leaves for the endpoint now.
    pub(super) fn reserve(self: &Arc<Self>, id: &EndpointId, wanted: u32, cap: u32) -> Slots {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let running = counts.get(id).copied().unwrap_or(0);
        let held = in_flight::room(cap, running, wanted);
        if held > 0 {
            *counts.entry(id.clone()).or_default() += held;
        }
        Slots {
            owner: self.clone(),
            id: id.clone(),
            held,
        }
    }

    /// The attempts in flight to `id` now.
    pub fn running(&self, id: &EndpointId) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(id).copied().unwrap_or(0)
    }

    fn release(&self, id: &EndpointId, n: u32) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(id) {
            *count = count.saturating_sub(n);
            if *count == 0 {
                counts.remove(id);
            }
        }
    }
}

/// Slots taken for one endpoint's share of a batch; given back when dropped, so a batch cut
/// off half way (a cancelled task) leaks none.
#[derive(Debug)]
pub(super) struct Slots {
    owner: Arc<InFlight>,
    id: EndpointId,
    held: u32,
}

impl Slots {
    pub(super) fn held(&self) -> u32 {
        self.held
    }

    /// Keeps `n` slots and gives the rest back (jobs admission then held back).
    pub(super) fn keep(&mut self, n: u32) {
        let extra = self.held.saturating_sub(n);
        if extra > 0 {
            self.owner.release(&self.id, extra);
            self.held -= extra;
        }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        if self.held > 0 {
            self.owner.release(&self.id, self.held);
        }
    }
}
