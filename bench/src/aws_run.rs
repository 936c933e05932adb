//! The cases `authhooks-bench aws` runs, and the per-delivery table with the cost arithmetic
//! at list prices.

use std::time::{Duration, Instant};

use authhooks_tests::moto::Moto;

use crate::aws::{ids, Case, Stack};
use crate::counter::{write_units, Counter, Counts};
use crate::sink::{FirstAttempt, Sink};
use crate::stats::Table;

/// us-east-1 list prices (see BENCHMARKS.md for source and date).
const SQS_PER_REQUEST: f64 = 0.40 / 1e6;
const WRU: f64 = 0.625 / 1e6;
const RRU: f64 = 0.125 / 1e6;
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
/// Memory assumed for every function (GB).
const MEMORY_GB: f64 = 0.125;

#[derive(Debug, clap::Args)]
pub struct AwsArgs {
    /// Events per case.
    #[arg(long, default_value_t = 100)]
    pub events: usize,
}

pub async fn run(args: AwsArgs) -> anyhow::Result<()> {
    let sdk = Moto::shared().sdk_config().await;
    let counter = Counter::default();
    let n = args.events;
    let mut cases = Vec::new();
    for per_request in [100, 1] {
        let stack = Stack::create(&sdk, &counter).await?;
        let sink = Sink::start(FirstAttempt::Ok).await?;
        stack.add_endpoint(&sink.url(0), None).await?;
        counter.take();
        let events = ids(&format!("ok{per_request}"), n);
        let began = Instant::now();
        stack.ingest(&events, per_request).await?;
        let ingest_secs = began.elapsed().as_secs_f64();
        let (batches, busy) = stack
            .pump(&sink, n as u64, 0, Duration::from_secs(60))
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
            stack.ingest(&events, per_request).await?;
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
            print_sizes(&sdk, &stack).await?;
        }
    }
    // Fan-out: each event to three endpoints, ingest's read shared by its deliveries.
    let stack = Stack::create(&sdk, &counter).await?;
    let sink = Sink::start(FirstAttempt::Ok).await?;
    for endpoint in 0..3 {
        stack.add_endpoint(&sink.url(endpoint), None).await?;
    }
    counter.take();
    let events = ids("fanout", n);
    let began = Instant::now();
    stack.ingest(&events, 100).await?;
    let ingest_secs = began.elapsed().as_secs_f64();
    let deliveries = 3 * n as u64;
    let (batches, busy) = stack
        .pump(&sink, deliveries, 0, Duration::from_secs(120))
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

    let stack = Stack::create(&sdk, &counter).await?;
    let sink = Sink::start(FirstAttempt::FailOnce).await?;
    // Retried after 1 s, with the circuit kept closed so that every delivery is retried
    // rather than deferred (an open circuit would measure deferrals instead).
    let extra = serde_json::json!({
        "retry": {"schedule_secs": [1]},
        "circuit": {"failure_threshold": 1000}
    });
    stack.add_endpoint(&sink.url(0), Some(extra)).await?;
    counter.take();
    let events = ids("retry", n.min(50));
    stack.ingest(&events, 100).await?;
    let (batches, busy) = stack
        .pump(&sink, events.len() as u64, 1, Duration::from_secs(120))
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
    report(&cases);
    Ok(())
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

fn wcu(counts: &Counts) -> u64 {
    counts.write_sizes.iter().map(|s| write_units(*s)).sum()
}

fn rru(counts: &Counts) -> f64 {
    let queries = counts.of("dynamodb.Query") + counts.of("dynamodb.Scan");
    counts.consistent_reads as f64 + counts.eventual_reads as f64 * 0.5 + queries as f64
}

fn report(cases: &[(Case, u64)]) {
    let mut table = Table::new(&[
        "case",
        "requests (total)",
        "SQS req / unit",
        "DDB WRU / unit",
        "DDB RRU / unit",
        "$ per million units",
    ]);
    for (case, ingest_posts) in cases {
        let per = |x: f64| x / case.units as f64;
        let ops: Vec<String> = case
            .counts
            .requests
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        let sqs = per(case.counts.of("sqs") as f64);
        let wru = per(wcu(&case.counts) as f64);
        let rru = per(rru(&case.counts));
        let invocations = per((case.worker_batches + ingest_posts) as f64);
        let gb_s = per(case.worker_secs) * MEMORY_GB;
        let cost = 1e6
            * (sqs * SQS_PER_REQUEST
                + wru * WRU
                + rru * RRU
                + invocations * LAMBDA_REQUEST
                + gb_s * LAMBDA_GB_SECOND);
        let breakdown = format!(
            "{cost:.3} = SQS {:.3} + WRU {:.3} + RRU {:.3} + Lambda req {:.3} + GB-s {:.3}",
            1e6 * sqs * SQS_PER_REQUEST,
            1e6 * wru * WRU,
            1e6 * rru * RRU,
            1e6 * invocations * LAMBDA_REQUEST,
            1e6 * gb_s * LAMBDA_GB_SECOND,
        );
        table.row(vec![
            format!("{} (n = {})", case.name, case.units),
            ops.join("\n"),
            format!("{sqs:.3}"),
            format!("{wru:.3}"),
            format!("{rru:.3}"),
            breakdown,
        ]);
    }
    println!("{table}");
}
