//! `authhooks-bench batch`: what batched delivery saves — requests to the receiver and CPU
//! per delivered event — in local mode, one event a POST against batches of up to
//! `--max-events`.
//!
//! One in-process `LocalMode` per run (so the CPU read is authhooks', the client's and the
//! sink's together, as one machine would spend it), an endpoint without ordering on a sink
//! that answers at once, `--events` events posted `--per-request` to a request by 4
//! posters, timed from the first POST until every event was received. Batching is the only
//! difference.

use std::time::{Duration, Instant};

use authhooks::domain::priority::PriorityTypes;
use serde_json::json;

use crate::client::{batch_bodies, Subjects};
use crate::local::load::post_all;
use crate::local::start_in_process;
use crate::machine::{cpu_per_unit_ms, load_average, process_cpu};
use crate::sink::{FirstAttempt, Sink};
use crate::stats::Table;

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Events per ingest request: 100 (a bulk import), or 1 (an auth hook's one event a
    /// call, which leaves the batches to form on the queue).
    #[arg(long, default_value_t = 100)]
    per_request: usize,
    /// The batching endpoint's `max_events`.
    #[arg(long, default_value_t = 100)]
    max_events: u32,
    /// The batching endpoint's `max_wait_ms`.
    #[arg(long, default_value_t = 100)]
    max_wait_ms: u64,
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Give up on a run after this long.
    #[arg(long, default_value_t = 300)]
    patience_secs: u64,
}

pub async fn run(args: BatchArgs) -> anyhow::Result<()> {
    println!(
        "{} events, {} a request, to one endpoint without ordering; load before: {}",
        args.events,
        args.per_request,
        load_average()
    );
    let mut table = Table::new(&[
        "delivery",
        "events received",
        "POSTs",
        "events/s",
        "CPU ms/event",
    ]);
    let batch = json!({"max_events": args.max_events, "max_wait_ms": args.max_wait_ms});
    for (name, extra) in [
        ("one event a POST".to_owned(), None),
        (format!("batches of up to {}", args.max_events), Some(batch)),
    ] {
        table.row(measure(&args, &name, extra).await?);
    }
    println!("{table}");
    println!("load after: {}", load_average());
    Ok(())
}

async fn measure(
    args: &BatchArgs,
    name: &str,
    batch: Option<serde_json::Value>,
) -> anyhow::Result<Vec<String>> {
    let (target, running) = start_in_process(args.workers, PriorityTypes::default()).await?;
    let sink = Sink::start(FirstAttempt::Ok).await?;
    let mut spec = json!({"ordering": "none", "event_types": ["*"]});
    if let (Some(batch), Some(map)) = (batch, spec.as_object_mut()) {
        map.insert("batch".into(), batch);
    }
    target.add_endpoint(&sink.url(0), Some(spec)).await?;
    let tag = format!("batch_{}", name.len());
    let bodies = batch_bodies(
        &tag,
        args.events,
        args.per_request,
        Subjects::Spread(10_000),
    );

    let cpu_before = process_cpu();
    let start = Instant::now();
    let refused = post_all(&target, bodies, 4, &tag).await;
    anyhow::ensure!(refused == 0, "{refused} requests refused");
    let deadline = start + Duration::from_secs(args.patience_secs);
    while sink.received() < args.events as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = start.elapsed();
    let cpu_after = process_cpu();
    let received = sink.received();
    running.shutdown().await;
    let cpu = cpu_per_unit_ms(cpu_before, cpu_after, received)
        .map_or_else(|| "?".to_owned(), |ms| format!("{ms:.4}"));
    Ok(vec![
        name.to_owned(),
        format!("{received}/{}", args.events),
        sink.requests().to_string(),
        format!("{:.0}", received as f64 / elapsed.as_secs_f64()),
        cpu,
    ])
}
