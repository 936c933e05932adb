//! The cases `authhooks-bench aws` runs on unordered endpoints (the standard queue), then
//! the ordered ones (`aws_ordered`), and the per-delivery table (`aws_cost`).

use std::time::{Duration, Instant};

use authhooks_tests::moto::Moto;

use crate::aws::{ids, Case, Stack};
use crate::aws_cost::report;
use crate::client::Subjects;
use crate::counter::Counter;
use crate::machine::load_average;
use crate::sink::FirstAttempt;

#[derive(Debug, clap::Args)]
pub struct AwsArgs {
    /// Events per case.
    #[arg(long, default_value_t = 100)]
    pub events: usize,
    /// Which endpoints' cases to run.
    #[arg(long, value_enum, default_value_t = Only::All)]
    pub only: Only,
    /// The worker's share of delivered attempts logged at info (the template's default).
    #[arg(long, default_value_t = 0.01)]
    pub success_log_sample: f64,
    /// Milliseconds every receiver takes to answer; the worker's billed time waits for it.
    #[arg(long, default_value_t = 100)]
    pub receiver_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    All,
    /// `"ordering": "none"`: the standard queue.
    Unordered,
    /// `"ordering": "subject"`: the ordered (FIFO) queue.
    Ordered,
}

pub async fn run(args: AwsArgs) -> anyhow::Result<()> {
    let sdk = Moto::shared().sdk_config().await;
    let counter = Counter::default();
    crate::log_bytes::install();
    crate::aws::set_success_log_sample(args.success_log_sample);
    crate::aws::set_receiver_latency(Duration::from_millis(args.receiver_ms));
    println!(
        "load average at start: {}; receivers answer after {} ms",
        load_average(),
        args.receiver_ms
    );
    let mut cases = Vec::new();
    if args.only != Only::Ordered {
        cases.extend(unordered(&sdk, &counter, args.events).await?);
    }
    if args.only != Only::Unordered {
        cases.extend(crate::aws_ordered::cases(&sdk, &counter, args.events).await?);
    }
    report(&cases);
    println!("load average at end: {}", load_average());
    Ok(())
}

async fn unordered(
    sdk: &aws_config::SdkConfig,
    counter: &Counter,
    n: usize,
) -> anyhow::Result<Vec<(Case, u64)>> {
    let mut cases = Vec::new();
    for per_request in [100, 1] {
        let stack = Stack::create(sdk, counter).await?;
        let sink = crate::aws::receiver(FirstAttempt::Ok).await?;
        stack.add_endpoint(&sink.url(0), None).await?;
        counter.take();
        let events = ids(&format!("ok{per_request}"), n);
        let began = Instant::now();
        stack.ingest(&events, per_request, Subjects::One).await?;
        let ingest_secs = began.elapsed().as_secs_f64();
        let (batches, busy) = stack
            .pump(&stack.queue, &sink, n as u64, 0, Duration::from_secs(60))
            .await?;
        let mut case = Case {
            name: format!("success, {per_request} event(s) per ingest POST"),
            units: n as u64,
            counts: counter.take(),
            worker_batches: batches,
            worker_secs: busy,
        };
        case.worker_secs += ingest_secs;
        cases.push((case, n.div_ceil(per_request) as u64));
        if per_request == 100 {
            // The same events again: every one is a duplicate and must enqueue nothing.
            stack.ingest(&events, per_request, Subjects::One).await?;
            cases.push((
                Case {
                    name: "duplicate ingest (same ids, batch of 100)".into(),
                    units: n as u64,
                    counts: counter.take(),
                    worker_batches: 0,
                    worker_secs: 0.0,
                },
                n.div_ceil(per_request) as u64,
            ));
            print_sizes(sdk, &stack).await?;
        }
    }
    // Fan-out: each event to three endpoints, ingest's read shared by its deliveries.
    let stack = Stack::create(sdk, counter).await?;
    let sink = crate::aws::receiver(FirstAttempt::Ok).await?;
    for endpoint in 0..3 {
        stack.add_endpoint(&sink.url(endpoint), None).await?;
    }
    counter.take();
    let events = ids("fanout", n);
    let began = Instant::now();
    stack.ingest(&events, 100, Subjects::One).await?;
    let ingest_secs = began.elapsed().as_secs_f64();
    let deliveries = 3 * n as u64;
    let (batches, busy) = stack
        .pump(&stack.queue, &sink, deliveries, 0, Duration::from_secs(120))
        .await?;
    cases.push((
        Case {
            name: "success, fan-out to 3 endpoints, batch ingest".into(),
            units: deliveries,
            counts: counter.take(),
            worker_batches: batches,
            worker_secs: busy + ingest_secs,
        },
        n.div_ceil(100) as u64,
    ));

    let stack = Stack::create(sdk, counter).await?;
    let sink = crate::aws::receiver(FirstAttempt::FailOnce).await?;
    // Retried after 1 s, with the circuit kept closed so that every delivery is retried
    // rather than deferred (an open circuit would measure deferrals instead).
    let extra = serde_json::json!({
        "retry": {"schedule_secs": [1]},
        "circuit": {"failure_threshold": 1000}
    });
    stack.add_endpoint(&sink.url(0), Some(extra)).await?;
    counter.take();
    let events = ids("retry", n.min(50));
    stack.ingest(&events, 100, Subjects::One).await?;
    let (batches, busy) = stack
        .pump(
            &stack.queue,
            &sink,
            events.len() as u64,
            1,
            Duration::from_secs(120),
        )
        .await?;
    cases.push((
        Case {
            name: "retried once (503, then 200), batch ingest".into(),
            units: events.len() as u64,
            counts: counter.take(),
            worker_batches: batches,
            worker_secs: busy,
        },
        1,
    ));
    Ok(cases)
}

/// The sizes of what the state table holds after a successful run, by key prefix.
async fn print_sizes(sdk: &aws_config::SdkConfig, stack: &Stack) -> anyhow::Result<()> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let scan = client.scan().table_name(&stack.tables.state).send().await?;
    let mut sizes: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for item in scan.items() {
        let pk = item
            .get("pk")
            .and_then(|v| v.as_s().ok())
            .map(|s| s.split('#').next().unwrap_or("").to_owned())
            .unwrap_or_default();
        let size = crate::counter::item_size(Some(item));
        let entry = sizes.entry(pk).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = entry.1.max(size);
    }
    for (prefix, (count, max)) in sizes {
        println!("state items {prefix}#…: {count} stored, largest {max} bytes");
    }
    Ok(())
}
