//! The worker pool of a chaos run: `run_worker` tasks, each behind an inbox that says
//! whether it has a batch in hand, and the killer that aborts one now and then and starts
//! a fresh one in its place.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use authhooks::adapters::memory::QueueMessage;
use authhooks::local::inbox::Inbox;
use authhooks::local::pump::{run_worker, WorkerParts};
use authhooks::ports::PortError;

use super::faults::mix;

/// The worker tasks, each with an inbox that says whether it has a batch in hand.
pub(super) struct Pool {
    slots: Mutex<Vec<(JoinHandle<()>, Arc<AtomicBool>)>>,
    pub(super) kills: AtomicU64,
    pub(super) kills_mid_batch: AtomicU64,
}

impl Pool {
    pub(super) fn start(parts: &WorkerParts, n: usize, stopped: &watch::Receiver<bool>) -> Self {
        let slots = (0..n).map(|_| spawn_worker(parts, stopped)).collect();
        Self {
            slots: Mutex::new(slots),
            kills: AtomicU64::new(0),
            kills_mid_batch: AtomicU64::new(0),
        }
    }

    pub(super) fn abort_all(&self) {
        for (task, _) in lock(&self.slots).iter() {
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn spawn_worker(
    parts: &WorkerParts,
    stopped: &watch::Receiver<bool>,
) -> (JoinHandle<()>, Arc<AtomicBool>) {
    let busy = Arc::new(AtomicBool::new(false));
    let mut parts = parts.clone();
    parts.inbox = Arc::new(BusyInbox {
        inner: parts.inbox.clone(),
        busy: busy.clone(),
    });
    (tokio::spawn(run_worker(parts, stopped.clone())), busy)
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
        let mut slots = lock(&pool.slots);
        let n = slots.len() as u64;
        let victim = usize::try_from(mix(seed ^ k.rotate_left(7)) % n.max(1)).unwrap_or(0);
        if let Some(slot) = slots.get_mut(victim) {
            if slot.1.load(Ordering::SeqCst) {
                pool.kills_mid_batch.fetch_add(1, Ordering::Relaxed);
            }
            slot.0.abort();
            *slot = spawn_worker(&parts, &stopped);
            pool.kills.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// An inbox that marks its worker busy from a non-empty receive until the acknowledgement.
struct BusyInbox {
    inner: Arc<dyn Inbox>,
    busy: Arc<AtomicBool>,
}

#[async_trait]
impl Inbox for BusyInbox {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, PortError> {
        let got = self.inner.receive(max, wait).await?;
        self.busy.store(!got.is_empty(), Ordering::SeqCst);
        Ok(got)
    }

    async fn delete(&self, receipt_handles: Vec<String>) -> Result<(), PortError> {
        let done = self.inner.delete(receipt_handles).await;
        self.busy.store(false, Ordering::SeqCst);
        done
    }
}
