//! `authhooks-bench fanout`: one event to many endpoints. First ingest's CPU per event as
//! the number of endpoints grows (in this process, no worker running, so the process's CPU
//! is ingest's), then an `authhooks dev` process given one signed request whose events
//! each go to every endpoint: its resident memory over the run and the time to the last
//! delivery, beside the same process's plain delivery rate (one endpoint) measured first,
//! which is the machine's own limit in this run.

mod ingest_cpu;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::event;
use crate::machine::load_average;
use crate::sink::{FirstAttempt, Sink};
use crate::stats::Table;

#[derive(Debug, clap::Args)]
pub struct FanOutArgs {
    /// The `authhooks` binary to run as `authhooks dev` (build it optimized first).
    #[arg(long, default_value = "target/bench-fast/authhooks")]
    pub authhooks: PathBuf,
    /// Endpoints, all subscribed to `*` with `"ordering": "none"`.
    #[arg(long, default_value_t = 10_000)]
    pub endpoints: u32,
    /// Events in the one request that fans out.
    #[arg(long, default_value_t = 100)]
    pub events: usize,
    /// Bytes of padding in each event's data (about the size of the event).
    #[arg(long, default_value_t = 8_800)]
    pub event_bytes: usize,
    /// Endpoint counts at which ingest's CPU per event is measured.
    #[arg(long, value_delimiter = ',', default_value = "1,200,10000")]
    pub cpu_at: Vec<u32>,
    /// Requests of `--events` events each timed per endpoint count.
    #[arg(long, default_value_t = 20)]
    pub cpu_requests: usize,
    /// Events delivered to one endpoint for the baseline delivery rate.
    #[arg(long, default_value_t = 20_000)]
    pub baseline_events: usize,
    /// Worker consumers of `authhooks dev`.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Gives up on the fan-out after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
}

pub async fn run(args: FanOutArgs) -> anyhow::Result<()> {
    println!("load average at start: {}", load_average());
    let cpu = ingest_cpu::measure(&args).await?;
    println!("{cpu}");

    let sink = Sink::start(FirstAttempt::Ok).await?;
    let dev = crate::dev::Dev::start(&args.authhooks, args.workers).await?;
    let mut table = Table::new(&["run", "deliveries", "time", "deliveries/s", "memory"]);

    // The machine's own limit in this run: the same process delivering to one endpoint.
    let baseline = dev.target.add_endpoint(&sink.url(0), None).await?;
    let before = sink.received();
    let began = Instant::now();
    let bodies: Vec<Vec<u8>> = (0..args.baseline_events)
        .collect::<Vec<_>>()
        .chunks(100)
        .map(|chunk| batch(chunk.iter().map(|i| format!("evt_base_{i}")), 0))
        .collect::<anyhow::Result<_>>()?;
    for (n, body) in bodies.into_iter().enumerate() {
        let status = dev
            .target
            .post_events(body, &format!("msg_base_{n}"))
            .await?;
        anyhow::ensure!(status == 202, "baseline request {n}: {status}");
    }
    let expected = args.baseline_events as u64;
    wait_for(
        &sink,
        before + expected,
        Duration::from_secs(args.timeout_secs),
        |_| {},
    )
    .await?;
    let base_rate = expected as f64 / began.elapsed().as_secs_f64();
    table.row(vec![
        "baseline: 1 endpoint".to_owned(),
        expected.to_string(),
        format!("{:.1} s", began.elapsed().as_secs_f64()),
        format!("{base_rate:.0}"),
        dev.memory()?.to_string(),
    ]);
    dev.target.remove_endpoint(&baseline).await?;

    // The fan-out: every endpoint, one request.
    let created = Instant::now();
    dev.add_endpoints(&sink, args.endpoints).await?;
    println!(
        "{} endpoints created in {:.1} s; memory {}",
        args.endpoints,
        created.elapsed().as_secs_f64(),
        dev.memory()?
    );
    let at_rest = dev.memory()?;
    let body = batch(
        (0..args.events).map(|i| format!("evt_fan_{i}")),
        args.event_bytes,
    )?;
    let request_bytes = body.len();
    let before = sink.received();
    let began = Instant::now();
    let status = dev.target.post_events(body, "msg_fan_out").await?;
    let answered = began.elapsed();
    anyhow::ensure!(status == 202, "the fan-out request: {status}");
    let expected = args.events as u64 * u64::from(args.endpoints);
    // RSS as the deliveries go: what grows with them (each delivery's record, kept for the
    // 7-day deduplication window) against what a fan-out holds at once.
    let mut peak_rss = 0u64;
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let limit = Duration::from_secs(args.timeout_secs);
    wait_for(&sink, before + expected, limit, |now| {
        if let Ok(memory) = dev.memory() {
            peak_rss = peak_rss.max(memory.rss_kib);
            let done = now - before;
            if samples
                .last()
                .is_none_or(|(at, _)| done >= at + expected / 10)
            {
                samples.push((done, memory.rss_kib));
            }
        }
    })
    .await?;
    if let Ok(memory) = dev.memory() {
        samples.push((expected, memory.rss_kib));
    }
    let growth: Vec<String> = samples
        .iter()
        .map(|(done, rss)| format!("{}k: {} MB", done / 1000, rss / 1024))
        .collect();
    println!("RSS by deliveries done: {}", growth.join(", "));
    let took = began.elapsed().as_secs_f64();
    let rate = expected as f64 / took;
    let end = dev.memory()?;
    table.row(vec![
        format!(
            "fan-out: {} events ({} KiB) × {} endpoints",
            args.events,
            request_bytes / 1024,
            args.endpoints
        ),
        expected.to_string(),
        format!("{took:.1} s (answered in {} ms)", answered.as_millis()),
        format!("{rate:.0} ({:.2} × baseline)", rate / base_rate),
        format!(
            "before {} MB, peak {} MB (sampled {} MB), after {} MB",
            at_rest.rss_kib / 1024,
            end.hwm_kib / 1024,
            peak_rss / 1024,
            end.rss_kib / 1024
        ),
    ]);
    println!("{table}");
    println!(
        "sink: {} requests for {} distinct deliveries",
        sink.requests(),
        sink.received()
    );
    println!("load average at end: {}", load_average());
    dev.stop();
    Ok(())
}

/// A request body of events with these ids, each padded with `pad` bytes of data.
fn batch(ids: impl Iterator<Item = String>, pad: usize) -> anyhow::Result<Vec<u8>> {
    let events: Vec<Value> = ids
        .enumerate()
        .map(|(i, id)| {
            let mut event = event(&id, &format!("usr_{i}"));
            if pad > 0 {
                event["data"]["padding"] = json!("x".repeat(pad));
            }
            event
        })
        .collect();
    Ok(serde_json::to_vec(&json!({ "events": events }))?)
}

/// Waits until the sink has received `target` distinct deliveries, calling `tick` every
/// 200 ms; fails when none arrives for 60 s or `limit` passes.
async fn wait_for(
    sink: &Sink,
    target: u64,
    limit: Duration,
    mut tick: impl FnMut(u64),
) -> anyhow::Result<()> {
    let began = Instant::now();
    let (mut seen, mut moved) = (sink.received(), Instant::now());
    while sink.received() < target {
        let now = sink.received();
        if now != seen {
            (seen, moved) = (now, Instant::now());
        }
        anyhow::ensure!(
            moved.elapsed() < Duration::from_secs(60) && began.elapsed() < limit,
            "stalled at {now} of {target} deliveries after {:.0} s",
            began.elapsed().as_secs_f64()
        );
        tick(now);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
