//! `authhooks-bench ratio`: authhooks against the machine's own limit, in one run. The
//! limit is a minimal client posting a signed delivery's body to the sink (`limit`); then
//! an `authhooks dev` child process delivers batched events to the same sink, and its
//! deliveries per second are stated as a fraction of that limit, with the child's own CPU
//! time per delivery (read from `/proc`, so the producer and the sink in this process are
//! not counted). Then the child's CPU per single-event POST, and ingest→receipt latency at
//! a fixed rate of single-event POSTs. Each bar of docs/architecture.md §4 is judged.

mod limit;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{batch_bodies, event, Subjects};
use crate::dev::Dev;
use crate::local::load::{bar, drain, offer, post_all, verdict};
use crate::machine::{cpu_per_unit_ms, load_average};
use crate::sink::{FirstAttempt, Sink};
use crate::stats::{percentile_ms, Table};

#[derive(Debug, clap::Args)]
pub struct RatioArgs {
    /// The `authhooks` binary to run as `authhooks dev` (build it optimized first).
    #[arg(long, default_value = "target/bench-fast/authhooks")]
    pub authhooks: PathBuf,
    /// Worker consumers of `authhooks dev` (on each of its two queues).
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// The endpoint's ordering: `none` or `subject`.
    #[arg(long, default_value = "none")]
    pub ordering: String,
    /// Connections of the minimal client that measures the limit: as many as authhooks may
    /// have attempts in flight to one endpoint (and `wrk`'s default).
    #[arg(long, default_value_t = 10)]
    pub connections: usize,
    /// Seconds the minimal client runs.
    #[arg(long, default_value_t = 5.0)]
    pub limit_secs: f64,
    /// Events of each saturation run, posted in batches.
    #[arg(long, default_value_t = 50_000)]
    pub events: usize,
    /// Events per ingest request in the saturation run.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Concurrent ingest requests in the saturation and single-event runs.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Times the limit and the saturation are measured, alternately.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Single-event POSTs whose CPU is measured (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pub singles: usize,
    /// Offered rate (events/s) of the latency run, one event per POST (0 skips it).
    #[arg(long, default_value_t = 5_000)]
    pub rate: u32,
    /// Seconds the latency run offers load.
    #[arg(long, default_value_t = 5)]
    pub secs: u64,
}

/// Events spread over this many users, as `authhooks-bench local` does.
const SUBJECTS: Subjects = Subjects::Spread(1000);

pub async fn run(args: RatioArgs) -> anyhow::Result<()> {
    println!("load average at start: {}", load_average());
    let sink = Sink::start(FirstAttempt::Ok).await?;
    let dev = Dev::start(&args.authhooks, args.workers).await?;
    dev.target
        .add_endpoint(&sink.url(0), Some(json!({"ordering": args.ordering})))
        .await?;
    let mut table = Table::new(&["round", "run", "result", "CPU", "load", "bar"]);
    for round in 1..=args.rounds.max(1) {
        let limit = limit::measure(&sink, args.connections, args.limit_secs).await?;
        let limit_rate = limit.per_second();
        table.row(vec![
            round.to_string(),
            format!(
                "limit: minimal client, {} connections, {:.0} s",
                args.connections, limit.secs
            ),
            format!("{limit_rate:.0} requests/s"),
            limit.cpu_ms.map_or("?".into(), |ms| {
                format!("{ms:.4} ms/request (client and sink)")
            }),
            load_average(),
            "—".into(),
        ]);
        let (rate, cpu_ms) = saturate(&args, &dev, &sink, round).await?;
        let ratio = rate / limit_rate;
        table.row(vec![
            round.to_string(),
            format!(
                "authhooks dev, ordering {}, {} events in batches of {}",
                args.ordering, args.events, args.batch
            ),
            format!("{rate:.0} deliveries/s = {ratio:.2} of the limit"),
            cpu_ms.map_or("?".into(), |ms| format!("{ms:.4} ms/delivery (authhooks)")),
            load_average(),
            format!(
                "{}; {}",
                verdict(ratio >= 0.5, "≥ 0.5"),
                verdict(cpu_ms.is_some_and(|ms| ms <= 0.035), "≤ 0.035 ms")
            ),
        ]);
    }
    if args.singles > 0 {
        let cpu_ms = singles(&args, &dev, &sink).await?;
        table.row(vec![
            "—".into(),
            format!(
                "{} single-event POSTs, {} at a time",
                args.singles, args.concurrency
            ),
            "delivered".into(),
            cpu_ms.map_or("?".into(), |ms| {
                format!("{ms:.4} ms/POST, its delivery included (authhooks)")
            }),
            load_average(),
            verdict(cpu_ms.is_some_and(|ms| ms <= 0.1), "≤ 0.1 ms"),
        ]);
    }
    if args.rate > 0 {
        let offered = offer(
            &dev.target,
            &sink,
            (args.rate, args.secs),
            1,
            "lat",
            SUBJECTS,
        )
        .await;
        let p99 = percentile_ms(&offered.latencies, 0.99);
        table.row(vec![
            "—".into(),
            format!(
                "latency: {} events/s × {} s, one per POST",
                args.rate, args.secs
            ),
            format!(
                "{}/{} delivered ({} refused): p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
                offered.latencies.len(),
                offered.total,
                offered.refused,
                percentile_ms(&offered.latencies, 0.5),
                percentile_ms(&offered.latencies, 1.0)
            ),
            "—".into(),
            load_average(),
            verdict(p99 <= 10.0 && offered.lost == 0, "p99 ≤ 10 ms"),
        ]);
    }
    dev.stop();
    println!("{table}");
    println!("load average at end: {}", load_average());
    Ok(())
}

/// Batched events as fast as ingest takes them, timed from the first POST to the last
/// receipt; returns deliveries/s and the child's CPU per delivery in ms.
async fn saturate(
    args: &RatioArgs,
    dev: &Dev,
    sink: &Arc<Sink>,
    round: usize,
) -> anyhow::Result<(f64, Option<f64>)> {
    let tag = format!("sat{round}");
    let bodies = batch_bodies(&format!("evt_{tag}"), args.events, args.batch, SUBJECTS);
    let expected = args.events as u64;
    let base = sink.received();
    let cpu_before = dev.cpu();
    let start = Instant::now();
    let refused = post_all(&dev.target, bodies, args.concurrency, &tag).await;
    anyhow::ensure!(refused == 0, "{refused} ingest requests were refused");
    let end = drain(sink, base, expected, &bar(expected, "saturation")).await;
    let got = sink.received() - base;
    anyhow::ensure!(got == expected, "{got} of {expected} delivered");
    Ok((
        got as f64 / (end - start).as_secs_f64(),
        cpu_per_unit_ms(cpu_before, settled_cpu(dev).await, got),
    ))
}

/// Single-event POSTs, `--concurrency` at a time; returns the child's CPU per POST in ms,
/// its delivery included.
async fn singles(args: &RatioArgs, dev: &Dev, sink: &Arc<Sink>) -> anyhow::Result<Option<f64>> {
    let bodies: Vec<Vec<u8>> = (0..args.singles)
        .map(|i| serde_json::to_vec(&event(&format!("evt_one_{i}"), &SUBJECTS.of(i))))
        .collect::<Result<_, _>>()?;
    let expected = args.singles as u64;
    let base = sink.received();
    let cpu_before = dev.cpu();
    let refused = post_all(&dev.target, bodies, args.concurrency, "one").await;
    anyhow::ensure!(refused == 0, "{refused} single-event POSTs were refused");
    drain(sink, base, expected, &bar(expected, "single events")).await;
    let got = sink.received() - base;
    anyhow::ensure!(got == expected, "{got} of {expected} delivered");
    Ok(cpu_per_unit_ms(cpu_before, settled_cpu(dev).await, got))
}

/// The child's CPU time once what it does after the last receipt (acknowledging, logging)
/// is done too.
async fn settled_cpu(dev: &Dev) -> Option<Duration> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    dev.cpu()
}
