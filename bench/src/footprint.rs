//! `authhooks-bench init` and `rss`: each function's cold init timed in fresh processes
//! (the same constructors the Lambda mains call, configured from the environment against
//! moto), and the peak RSS of a worker process handling one batch of 10.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use authhooks::lambda::wiring::{admin_api, ingest_api, portal_api, Recorder, Worker};
use authhooks_tests::lambda::sqs_event;
use authhooks_tests::moto::Moto;

use crate::aws::{ids, Stack};
use crate::counter::Counter;
use crate::sink::{FirstAttempt, Sink};
use crate::stats::{percentile_ms, Table};

pub const FUNCTIONS: [&str; 5] = ["ingest", "worker", "dlq", "admin", "portal"];

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Fresh processes per function.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
}

/// The environment a deployed function gets, pointed at moto and at `stack`'s resources.
async fn environment(stack: &Stack) -> anyhow::Result<Vec<(&'static str, String)>> {
    let (queue, ordered, dlq) = stack.queue_urls();
    // A stack with the tenant portal: admin and portal read its key at cold start.
    let (portal_key, _) = Moto::shared()
        .create_secret("bench-portal-key-of-more-than-32-characters")
        .await;
    Ok(vec![
        ("AUTHHOOKS_PORTAL_KEY_SECRET_ARN", portal_key),
        ("AWS_ENDPOINT_URL", Moto::shared().endpoint_url().to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AUTHHOOKS_ENDPOINTS_TABLE", stack.tables.endpoints.clone()),
        ("AUTHHOOKS_STATE_TABLE", stack.tables.state.clone()),
        ("AUTHHOOKS_FAILURES_TABLE", stack.tables.failures.clone()),
        (
            "AUTHHOOKS_DELIVERY_LOG_TABLE",
            stack.tables.delivery_log.clone(),
        ),
        ("AUTHHOOKS_SOURCES_TABLE", stack.tables.sources.clone()),
        ("AUTHHOOKS_DELIVERIES_QUEUE_URL", queue),
        ("AUTHHOOKS_ORDERED_QUEUE_URL", ordered),
        ("AUTHHOOKS_DLQ_URL", dlq),
        ("AUTHHOOKS_INGEST_SECRET", stack.secret.expose()),
        ("AUTHHOOKS_ADMIN_TOKEN", "bench".into()),
        ("AUTHHOOKS_ALLOW_HTTP", "true".into()),
        ("AUTHHOOKS_ALLOW_PRIVATE_DESTINATIONS", "true".into()),
    ])
}

fn child(arg: &[&str], env: &[(&'static str, String)]) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(arg)
        .envs(env.iter().cloned())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{arg:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub async fn init(args: InitArgs) -> anyhow::Result<()> {
    let sdk = Moto::shared().sdk_config().await;
    let stack = Stack::create(&sdk, &Counter::default()).await?;
    let env = environment(&stack).await?;
    let mut table = Table::new(&["function", "runs", "p50", "p90", "max", "bar ≤ 25 ms"]);
    for function in FUNCTIONS {
        let mut times = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            let micros: u64 = child(&["init-child", function], &env)?.parse()?;
            times.push(Duration::from_micros(micros));
        }
        times.sort();
        let p90 = percentile_ms(&times, 0.9);
        table.row(vec![
            function.to_owned(),
            args.runs.to_string(),
            format!("{:.2} ms", percentile_ms(&times, 0.5)),
            format!("{p90:.2} ms"),
            format!("{:.2} ms", percentile_ms(&times, 1.0)),
            if p90 <= 25.0 { "met" } else { "MISSED" }.to_owned(),
        ]);
    }
    println!("{table}");
    Ok(())
}

/// In a fresh process: builds one function as its main does; prints microseconds.
pub async fn init_child(function: &str) -> anyhow::Result<()> {
    let began = Instant::now();
    match function {
        "ingest" => drop(ingest_api().await?),
        "admin" => drop(admin_api().await?),
        "portal" => drop(portal_api().await?),
        "worker" => drop(Worker::from_env().await?),
        "dlq" => drop(Recorder::from_env().await?),
        other => anyhow::bail!("no function {other:?}; one of {FUNCTIONS:?}"),
    }
    println!("{}", began.elapsed().as_micros());
    Ok(())
}

pub async fn rss() -> anyhow::Result<()> {
    let sdk = Moto::shared().sdk_config().await;
    let stack = Stack::create(&sdk, &Counter::default()).await?;
    let sink = Sink::start(FirstAttempt::Ok).await?;
    stack.add_endpoint(&sink.url(0), None).await?;
    stack
        .ingest(&ids("rss", 10), 10, crate::client::Subjects::One)
        .await?;
    let env = environment(&stack).await?;
    // The last line: the worker prints its metrics (EMF) lines first.
    let out = child(&["rss-child"], &env)?;
    let out = out.lines().last().unwrap_or_default();
    println!("worker process, one batch of 10 delivered to a loopback sink: {out}");
    anyhow::ensure!(
        sink.received() == 10,
        "the sink got {} of 10",
        sink.received()
    );
    Ok(())
}

/// In a fresh process: a worker from the environment handles one SQS batch of 10.
pub async fn rss_child() -> anyhow::Result<()> {
    let worker = Worker::from_env().await?;
    let sdk = authhooks::lambda::wiring::sdk_config().await;
    let url = std::env::var("AUTHHOOKS_DELIVERIES_QUEUE_URL")?;
    let queue = authhooks::adapters::sqs::SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url);
    let mut messages = Vec::new();
    while messages.len() < 10 {
        let got = queue.receive(10, 1).await?;
        anyhow::ensure!(!got.is_empty(), "the queue ran dry at {}", messages.len());
        messages.extend(got);
    }
    let response = worker.handle(sqs_event(&messages, "deliveries")).await;
    anyhow::ensure!(response.batch_item_failures.is_empty(), "deliveries failed");
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .context("no VmHWM in /proc/self/status")?;
    println!(
        "{} messages, peak RSS {}",
        messages.len(),
        hwm.trim_start_matches("VmHWM:").trim()
    );
    Ok(())
}
