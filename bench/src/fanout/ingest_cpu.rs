//! Ingest's CPU per event against the number of endpoints every event goes to: the ingest
//! use case over the in-memory ports, in this process with nothing else running, so the
//! process's CPU time is ingest's. Configured as local mode is (no endpoint cache: the
//! index is rebuilt when the store changes); a warm Lambda reuses it the same way, for the
//! endpoint cache's 5 s.

use std::sync::Arc;

use authhooks::adapters::memory::QueueSettings;
use authhooks::ports::{Clock, SystemClock, SystemEntropy};
use authhooks::system::{MemoryBackend, Settings, System};
use serde_json::json;

use super::{batch, FanOutArgs};
use crate::machine::process_cpu;
use crate::stats::Table;

/// The CPU per event at each endpoint count, and each as a multiple of the first count's
/// (the same run's own floor).
pub async fn measure(args: &FanOutArgs) -> anyhow::Result<Table> {
    let mut table = Table::new(&[
        "endpoints per event",
        "CPU per event",
        "× first row",
        "left on the queues per event",
    ]);
    let mut floor = None;
    for &count in &args.cpu_at {
        let (per_event, enqueued) = at(args, count).await?;
        let floor = *floor.get_or_insert(per_event);
        table.row(vec![
            count.to_string(),
            format!("{:.1} µs", per_event * 1e6),
            format!("{:.1}", per_event / floor),
            enqueued,
        ]);
    }
    Ok(table)
}

/// CPU seconds per event ingesting `--cpu-requests` requests at `count` endpoints, and what
/// each event left on the queues.
async fn at(args: &FanOutArgs, count: u32) -> anyhow::Result<(f64, String)> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = MemoryBackend::new(clock.clone(), QueueSettings::default());
    let sender = Arc::new(authhooks::adapters::http::HttpSender::new(
        authhooks::adapters::http::SenderConfig::default(),
    )?);
    let system: System = backend
        .builder(clock, Arc::new(SystemEntropy), sender)
        .settings(Settings::permissive())
        .build();
    for n in 0..count {
        let spec = json!({"url": format!("http://127.0.0.1:9/sink/{n}"),
                          "event_types": ["*"], "ordering": "none"});
        system.admin.create_endpoint(&spec).await?;
    }
    let bodies: Vec<Vec<u8>> = (0..args.cpu_requests)
        .map(|r| {
            batch(
                (0..args.events).map(|i| format!("evt_cpu_{count}_{r}_{i}")),
                args.event_bytes,
            )
        })
        .collect::<anyhow::Result<_>>()?;
    // One request first, so that the index is built as it is on a warm process.
    let warm = batch(std::iter::once(format!("evt_cpu_{count}_warm")), 0)?;
    system.ingest.ingest(&warm, None, None).await?;

    let before = process_cpu().unwrap_or_default();
    for body in &bodies {
        system.ingest.ingest(body, None, None).await?;
    }
    let cpu = process_cpu().unwrap_or_default().saturating_sub(before);
    let events = (args.cpu_requests * args.events) as f64;
    let waiting = backend.deliveries.len() + backend.ordered.len();
    let enqueued = format!("{:.0} messages", waiting as f64 / (events + 1.0));
    Ok((cpu.as_secs_f64() / events, enqueued))
}
