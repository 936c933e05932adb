//! Local mode's wait for an endpoint's slots: its consumers may hold a hundred batches for
//! one endpoint at once, far over its cap on attempts in flight, and the worker would defer
//! every job over the cap ([`crate::domain::in_flight`]), so a single busy but healthy
//! endpoint got a few deliveries through per deferral. A share of a batch instead waits for
//! the endpoint's slots to free, for a short while: a healthy endpoint frees them within
//! milliseconds, and a hanging one's jobs go on to be deferred as before once the wait is
//! up, holding their consumer's room no longer than that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::ids::EndpointId;
use crate::domain::in_flight::SLOT_PATIENCE;

/// A gate of `cap` places per endpoint, shared by every worker consumer of one system.
#[derive(Clone)]
pub struct Gates {
    cap: u32,
    gates: Arc<Mutex<HashMap<EndpointId, Arc<Semaphore>>>>,
}

impl Gates {
    /// `cap`: the worker's `max_in_flight`.
    pub fn new(cap: u32) -> Self {
        Self {
            cap: cap.max(1),
            gates: Arc::default(),
        }
    }

    /// Places for `jobs` of `endpoint` (at most its cap), waited for up to [`SLOT_PATIENCE`];
    /// `None` when the wait ran out (the worker then defers what it cannot start).
    pub async fn enter(&self, endpoint: &EndpointId, jobs: usize) -> Option<OwnedSemaphorePermit> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            gates
                .entry(endpoint.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.cap as usize)))
                .clone()
        };
        let places = u32::try_from(jobs).unwrap_or(u32::MAX).clamp(1, self.cap);
        tokio::time::timeout(SLOT_PATIENCE, gate.acquire_many_owned(places))
            .await
            .ok()
            .and_then(Result::ok)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn endpoint(n: u8) -> EndpointId {
        EndpointId::parse(&format!("ep_01M8S9P62ZSKN6YX7FHZ9BX0C{n}")).unwrap()
    }

    #[tokio::test]
    async fn a_share_waits_for_places_another_frees_and_gets_them() {
        let gates = Gates::new(10);
        let full = gates.enter(&endpoint(1), 10).await.expect("a free gate");
        let waiting = tokio::spawn({
            let gates = gates.clone();
            async move { gates.enter(&endpoint(1), 3).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "entered a full gate");
        drop(full);
        let entered = waiting.await.unwrap().expect("the freed places");
        assert_eq!(entered.num_permits(), 3);
    }

    #[tokio::test]
    async fn a_gate_that_stays_full_lets_the_share_go_on_without_places() {
        let gates = Gates::new(2);
        let _hanging = gates.enter(&endpoint(1), 5).await.expect("a free gate");
        assert!(gates.enter(&endpoint(1), 1).await.is_none());
        // Another endpoint's gate is its own.
        let other = gates
            .enter(&endpoint(2), 5)
            .await
            .expect("another endpoint's gate");
        assert_eq!(other.num_permits(), 2, "never more places than the cap");
    }
}
