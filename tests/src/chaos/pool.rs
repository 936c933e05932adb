//! The worker pool of a chaos run: `run_worker` tasks, each watched by an [`InHand`] (the
//! batch it holds and what it did with it), and the killer that aborts one now and then
//! and starts a fresh one in its place, noting what the dead worker had begun.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use authhooks::local::pump::{run_worker, WorkerParts};

use super::causes::CauseLog;
use super::faults::mix;
use super::in_hand::{watched, InHand};

/// The worker tasks, each with an inbox that keeps its batch in hand.
pub(super) struct Pool {
    slots: Mutex<Vec<(JoinHandle<()>, Arc<InHand>)>>,
    causes: Arc<CauseLog>,
    visibility: Duration,
    pub(super) kills: AtomicU64,
    pub(super) kills_mid_batch: AtomicU64,
}

impl Pool {
    pub(super) fn start(
        parts: &WorkerParts,
        n: usize,
        stopped: &watch::Receiver<bool>,
        causes: Arc<CauseLog>,
        visibility: Duration,
    ) -> Self {
        let mut pool = Self {
            slots: Mutex::new(Vec::new()),
            causes,
            visibility,
            kills: AtomicU64::new(0),
            kills_mid_batch: AtomicU64::new(0),
        };
        let slots = (0..n).map(|_| pool.spawn_worker(parts, stopped)).collect();
        pool.slots = Mutex::new(slots);
        pool
    }

    fn spawn_worker(
        &self,
        parts: &WorkerParts,
        stopped: &watch::Receiver<bool>,
    ) -> (JoinHandle<()>, Arc<InHand>) {
        let in_hand = Arc::new(InHand::new(self.causes.clone(), self.visibility));
        let parts = watched(parts, &in_hand);
        (tokio::spawn(run_worker(parts, stopped.clone())), in_hand)
    }

    pub(super) fn abort_all(&self) {
        for (task, _) in lock(&self.slots).iter() {
            task.abort();
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Aborts a worker every `every` (chosen by the seed) and starts a fresh one in its place,
/// as a Lambda instance dying mid-batch would: its messages reappear after the visibility
/// timeout.
pub(super) async fn kill_loop(
    pool: Arc<Pool>,
    parts: WorkerParts,
    stopped: watch::Receiver<bool>,
    every: Duration,
    seed: u64,
) {
    for k in 0u64.. {
        tokio::time::sleep(every).await;
        let dead = {
            let mut slots = lock(&pool.slots);
            let n = slots.len() as u64;
            let victim = usize::try_from(mix(seed ^ k.rotate_left(7)) % n.max(1)).unwrap_or(0);
            slots.get_mut(victim).map(|slot| {
                slot.0.abort();
                std::mem::replace(slot, pool.spawn_worker(&parts, &stopped))
            })
        };
        if let Some((task, in_hand)) = dead {
            // An aborted task runs on until its next await (it may be on another thread):
            // what it held is read once it is really gone.
            let _ = task.await;
            if in_hand.killed() {
                pool.kills_mid_batch.fetch_add(1, Ordering::Relaxed);
            }
            pool.kills.fetch_add(1, Ordering::Relaxed);
        }
    }
}
