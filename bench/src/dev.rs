//! An `authhooks dev` child process for the runs that measure it from outside: started on a
//! free loopback port with a generated admin token and ingest secret, its memory and CPU
//! time read from `/proc`.

use std::fmt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use authhooks::domain::signature::Secret;
use tokio::task::JoinSet;

use crate::client::Target;
use crate::machine::cpu_of;
use crate::sink::Sink;

/// Endpoint creations in flight at once.
const CREATE_CONCURRENCY: u32 = 16;

pub struct Dev {
    child: Child,
    pub target: Target,
}

/// A process's resident memory now and at its peak, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RSS {} MB (peak {} MB)",
            self.rss_kib / 1024,
            self.hwm_kib / 1024
        )
    }
}

impl Dev {
    /// `authhooks dev` from the binary at `authhooks`, with `workers` consumers per queue.
    pub async fn start(authhooks: &Path, workers: usize) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let secret = Secret::generate([0x3c; 32]);
        let token = "bench-dev-admin-token".to_owned();
        let child = Command::new(authhooks)
            .args(["dev", "--port", &port.to_string()])
            .args(["--workers", &workers.to_string()])
            .env("AUTHHOOKS_ADMIN_TOKEN", &token)
            .env("AUTHHOOKS_INGEST_SECRET", secret.expose())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} dev", authhooks.display()))?;
        let target = Target::new(format!("http://127.0.0.1:{port}"), token, secret)?;
        let dev = Self { child, target };
        let began = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            anyhow::ensure!(
                began.elapsed() < Duration::from_secs(20),
                "authhooks dev did not listen on {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(dev)
    }

    /// `count` endpoints for every event type, unordered, each its own path on the sink.
    pub async fn add_endpoints(&self, sink: &Sink, count: u32) -> anyhow::Result<()> {
        let mut running = JoinSet::new();
        for n in 1..=count {
            if running.len() >= CREATE_CONCURRENCY as usize {
                if let Some(done) = running.join_next().await {
                    done??;
                }
            }
            let (target, url) = (self.target.clone(), sink.url(n));
            running.spawn(async move { target.add_endpoint(&url, None).await.map(drop) });
        }
        while let Some(done) = running.join_next().await {
            done??;
        }
        Ok(())
    }

    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .with_context(|| format!("no {name} in /proc status"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }

    /// The process's user plus system CPU time so far.
    pub fn cpu(&self) -> Option<Duration> {
        cpu_of(&self.child.id().to_string())
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
