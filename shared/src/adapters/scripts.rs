//! The script port over the sandbox (`authhooks-sandbox`, QuickJS): each compile or run
//! goes to one of a few threads of the adapter's own, so a script's up to 100 ms of CPU
//! never holds an async worker, and the number of engines alive at once — each may use its
//! whole memory limit — is bounded by the threads. A queue of bounded length in front of
//! them: when it is full the call is refused as busy at once rather than waiting without
//! bound (an inbound request then answers 503 and its sender retries).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authhooks_sandbox::{Limits, Sandbox};
use chrono::{DateTime, Utc};
use futures::channel::oneshot;

use super::memory::lock;
use crate::domain::script::{ScriptFailure, ScriptRun};
use crate::ports::Scripts;

/// Runs waiting for a thread, past which calls are refused as busy.
const QUEUE: usize = 256;

type Job = Box<dyn FnOnce(&Sandbox) + Send>;

/// The sandbox behind the [`Scripts`] port, on `threads` threads started on first use.
pub struct SandboxScripts {
    sandbox: Arc<Sandbox>,
    threads: usize,
    jobs: Mutex<Option<SyncSender<Job>>>,
}

impl std::fmt::Debug for SandboxScripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxScripts")
            .field("limits", &self.sandbox.limits())
            .field("threads", &self.threads)
            .finish()
    }
}

impl SandboxScripts {
    /// A thread per core (at least one, at most four): scripts are CPU-bound.
    pub fn new(limits: Limits) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            sandbox: Arc::new(Sandbox::new(limits)),
            threads: cores.clamp(1, 4),
            jobs: Mutex::new(None),
        }
    }

    /// Hands `work` to a script thread and waits for its answer without blocking.
    async fn on_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Sandbox) -> Result<T, ScriptFailure> + Send + 'static,
    ) -> Result<T, ScriptFailure> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |sandbox| {
            // The caller may have gone (a request cut off); nothing is owed to it then.
            let _ = answer.send(work(sandbox));
        });
        let sent = {
            let mut jobs = lock(&self.jobs);
            let sender = jobs.get_or_insert_with(|| self.start());
            sender.try_send(job)
        };
        match sent {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(busy("every script runner is busy")),
            Err(TrySendError::Disconnected(_)) => {
                *lock(&self.jobs) = None;
                return Err(busy("the script runners stopped"));
            }
        }
        answered
            .await
            .unwrap_or_else(|_| Err(busy("the script runner stopped during the run")))
    }

    fn start(&self) -> SyncSender<Job> {
        let (sender, receiver) = sync_channel::<Job>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..self.threads {
            let (sandbox, receiver) = (self.sandbox.clone(), receiver.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("authhooks-script-{n}"))
                .spawn(move || serve(&sandbox, &receiver));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a script thread");
            }
        }
        sender
    }
}

/// A call not made: the caller may try again later.
fn busy(message: &str) -> ScriptFailure {
    ScriptFailure {
        busy: true,
        ..ScriptFailure::new(message)
    }
}

/// A script thread: takes jobs until every sender is gone.
fn serve(sandbox: &Sandbox, jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = lock(jobs).recv();
        match job {
            Ok(job) => job(sandbox),
            Err(_) => return,
        }
    }
}

#[async_trait]
impl Scripts for SandboxScripts {
    async fn check(&self, script: &str) -> Result<(), ScriptFailure> {
        let script = script.to_owned();
        self.on_thread(move |sandbox| {
            sandbox
                .compile(&script)
                .map(|_| ())
                .map_err(|e| ScriptFailure::new(e.to_string()))
        })
        .await
    }

    async fn run(
        &self,
        script: &str,
        input: String,
        now: DateTime<Utc>,
    ) -> Result<ScriptRun, ScriptFailure> {
        let script = script.to_owned();
        let now_ms = now.timestamp_millis();
        self.on_thread(move |sandbox| {
            sandbox
                .run(&script, &input, now_ms)
                .map(|outcome| ScriptRun {
                    output: outcome.output,
                    logs: outcome.logs,
                })
                .map_err(|failed| ScriptFailure {
                    logs: failed.logs,
                    ..ScriptFailure::new(failed.error.to_string())
                })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_core_refuses_no_script_the_engine_would_take_and_takes_none_it_refuses() {
        assert_eq!(
            crate::domain::script::MAX_SCRIPT_BYTES,
            authhooks_sandbox::MAX_SCRIPT_BYTES
        );
    }
}
