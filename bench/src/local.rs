//! `authhooks-bench local`: end-to-end load on local mode (in-process, or a running
//! `authhooks dev`) to a loopback sink: saturation throughput, then ingest→receipt latency
//! at fixed offered rates (open loop: requests leave on schedule whatever the answers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use authhooks::domain::signature::Secret;
use authhooks::local::{LocalConfig, LocalMode};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::client::{event, Target};
use crate::sink::{FirstAttempt, Sink};
use crate::stats::{percentile_ms, Table};

#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// A running `authhooks dev` (with --admin-token and --ingest-secret); else in-process.
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long, env = "AUTHHOOKS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    #[arg(long, env = "AUTHHOOKS_INGEST_SECRET", hide_env_values = true)]
    pub ingest_secret: Option<String>,
    /// Worker consumers of the in-process local mode.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Endpoints every event goes to.
    #[arg(long, default_value_t = 1)]
    pub endpoints: u32,
    /// Events for the saturation run (0 skips it).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Events per ingest request in the saturation run.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Concurrent ingest requests in the saturation run.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Offered rates (events/s) for the latency runs, one event per request.
    #[arg(long, value_delimiter = ',', default_value = "200,500,1000")]
    pub rates: Vec<u32>,
    /// Seconds each latency run offers load.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
}

const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(args: LocalArgs) -> anyhow::Result<()> {
    let sink = Sink::start(FirstAttempt::Ok).await?;
    let (target, running) = connect(&args).await?;
    for n in 0..args.endpoints {
        target.add_endpoint(&sink.url(n), None).await?;
    }
    let mut table = Table::new(&["run", "offered", "sent", "delivered", "result", "bar"]);
    if args.events > 0 {
        saturate(&args, &target, &sink, &mut table).await?;
    }
    for rate in &args.rates {
        latency(&args, &target, &sink, *rate, &mut table).await?;
    }
    if let Some(running) = running {
        running.shutdown().await;
    }
    println!("{table}");
    Ok(())
}

async fn connect(args: &LocalArgs) -> anyhow::Result<(Target, Option<LocalMode>)> {
    if let Some(url) = &args.url {
        let token = args
            .admin_token
            .clone()
            .context("--admin-token is needed with --url")?;
        let secret = args
            .ingest_secret
            .as_deref()
            .context("--ingest-secret is needed")?;
        let target = Target::new(url.clone(), token, Secret::parse(secret)?)?;
        return Ok((target, None));
    }
    let secret = Secret::generate([0x5a; 32]);
    let token = "bench-admin-token".to_owned();
    let running = LocalMode::start(LocalConfig {
        addr: "127.0.0.1:0".parse()?,
        admin_token: token.clone(),
        ingest_secret: secret.clone(),
        aws_endpoint: None,
        workers: args.workers,
    })
    .await?;
    let target = Target::new(format!("http://{}", running.addr), token, secret)?;
    Ok((target, Some(running)))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(what.to_owned());
    let style = ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Waits until the sink has `expected` more receipts than `base`, or the drain timeout.
async fn drain(sink: &Sink, base: u64, expected: u64, progress: &ProgressBar) -> Instant {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while sink.received() - base < expected && Instant::now() < deadline {
        progress.set_position(sink.received() - base);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    progress.finish();
    Instant::now()
}

async fn saturate(
    args: &LocalArgs,
    target: &Target,
    sink: &Arc<Sink>,
    table: &mut Table,
) -> anyhow::Result<()> {
    let expected = (args.events as u64) * u64::from(args.endpoints);
    let progress = bar(expected, "saturation");
    let base = sink.received();
    let batches: Vec<Vec<u8>> = (0..args.events)
        .collect::<Vec<_>>()
        .chunks(args.batch.max(1))
        .map(|chunk| {
            let events: Vec<_> = chunk
                .iter()
                .map(|i| event(&format!("evt_sat_{i}")))
                .collect();
            serde_json::to_vec(&json!({ "events": events })).unwrap_or_default()
        })
        .collect();
    let start = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let posters: Vec<_> = (0..args.concurrency.max(1))
        .map(|c| {
            let (queue, target) = (queue.clone(), target.clone());
            tokio::spawn(async move {
                let mut refused = 0u64;
                for k in 0.. {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(body) = next else { break };
                    match target.post_events(body, &format!("msg_sat_{c}_{k}")).await {
                        Ok(202) => {}
                        _ => refused += 1,
                    }
                }
                refused
            })
        })
        .collect();
    let mut refused = 0;
    for poster in posters {
        refused += poster.await.unwrap_or(1);
    }
    let ingested = start.elapsed();
    let end = drain(sink, base, expected, &progress).await;
    let got = sink.received() - base;
    let secs = (end - start).as_secs_f64();
    let rate = got as f64 / secs;
    table.row(vec![
        format!("saturation ({} workers)", args.workers),
        format!(
            "{} events × {} endpoint(s), batches of {}",
            args.events, args.endpoints, args.batch
        ),
        format!(
            "ingest {:.0} events/s ({} refused)",
            args.events as f64 / ingested.as_secs_f64(),
            refused
        ),
        format!(
            "{got}/{expected} in {secs:.2} s ({} sink requests)",
            sink.requests() - base
        ),
        format!("{rate:.0} deliveries/s"),
        verdict(rate >= 5000.0, "≥ 5 000/s"),
    ]);
    Ok(())
}

async fn latency(
    args: &LocalArgs,
    target: &Target,
    sink: &Arc<Sink>,
    rate: u32,
    table: &mut Table,
) -> anyhow::Result<()> {
    let total = u64::from(rate) * args.secs;
    let expected = total * u64::from(args.endpoints);
    let progress = bar(expected, &format!("{rate} events/s"));
    let base = sink.received();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(total as usize);
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        tokio::time::sleep_until(start + interval.mul_f64(i as f64)).await;
        let id = format!("evt_r{rate}_{i}");
        let body = serde_json::to_vec(&event(&id)).unwrap_or_default();
        let target = target.clone();
        // The ingest timestamp is taken just before the POST leaves.
        sent.push((id, Instant::now()));
        let msg_id = format!("msg_r{rate}_{i}");
        tasks.push(tokio::spawn(async move {
            target.post_events(body, &msg_id).await
        }));
        if i % 64 == 0 {
            progress.set_position(sink.received() - base);
        }
    }
    let mut refused = 0;
    for task in tasks {
        if !matches!(task.await, Ok(Ok(202))) {
            refused += 1;
        }
    }
    drain(sink, base, expected, &progress).await;
    let receipts = sink.receipts();
    let mut latencies = Vec::with_capacity(expected as usize);
    let mut lost = 0u64;
    for (id, at) in &sent {
        for n in 0..args.endpoints {
            match receipts.get(&(n, id.clone())) {
                Some(got) => latencies.push(got.saturating_duration_since(*at)),
                None => lost += 1,
            }
        }
    }
    latencies.sort();
    let p99 = percentile_ms(&latencies, 0.99);
    table.row(vec![
        format!("latency {rate}/s × {} s", args.secs),
        format!("{rate} events/s, 1 event per POST"),
        format!("{total} ({refused} refused)"),
        format!("{}/{expected} ({lost} missing)", latencies.len()),
        format!(
            "p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
            percentile_ms(&latencies, 0.50),
            percentile_ms(&latencies, 1.0)
        ),
        if rate == 1000 {
            verdict(p99 <= 20.0 && lost == 0, "p99 ≤ 20 ms")
        } else {
            "—".to_owned()
        },
    ]);
    Ok(())
}

fn verdict(met: bool, bar: &str) -> String {
    format!("{bar}: {}", if met { "met" } else { "MISSED" })
}
