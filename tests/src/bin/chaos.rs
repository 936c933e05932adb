//! `authhooks-chaos`: the fault-injection harness from the command line. Prints the table
//! and exits non-zero, with the reasons, if the run fails the same verdict as CI's test
//! (`ChaosReport::verdict`): anything lost, unexplained duplicates, a dead endpoint tried
//! too often, and the rest.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use authhooks_tests::chaos::{run, Backend, ChaosConfig};

#[derive(Parser, Debug)]
#[command(
    name = "authhooks-chaos",
    about = "Deliver N events under injected faults and count what was lost"
)]
struct Args {
    #[arg(long, default_value_t = 5_000)]
    events: usize,
    /// Distinct subjects the events are about (default: a tenth of the events, so each
    /// subject changes ten times; 0: every event its own subject).
    #[arg(long)]
    subjects: Option<usize>,
    /// Flaky endpoints (a dead one is always added).
    #[arg(long, default_value_t = 5)]
    endpoints: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of a flaky endpoint's first three attempts that fail.
    #[arg(long, default_value_t = 0.2)]
    fault_rate: f64,
    /// Abort a worker task this often (0: never).
    #[arg(long, default_value_t = 400)]
    kill_every_ms: u64,
    /// Share of enqueued jobs sent to the queue twice.
    #[arg(long, default_value_t = 0.05)]
    duplicate_rate: f64,
    /// Share of the workers' re-enqueue calls that fail.
    #[arg(long, default_value_t = 0.05)]
    enqueue_error_rate: f64,
    /// Share of the workers' dead-letter calls that fail.
    #[arg(long, default_value_t = 0.05)]
    dead_letter_error_rate: f64,
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// An SQS/DynamoDB API (moto) instead of memory; fresh tables and queues are created.
    #[arg(long, conflicts_with = "moto")]
    aws_endpoint: Option<String>,
    /// Start a moto server of its own on a free port (as the tests do, with their fixes to
    /// moto's FIFO receive and DynamoDB write atomicity) and run on it.
    #[arg(long)]
    moto: bool,
    /// Give up and report after this many seconds.
    #[arg(long, default_value_t = 1_800)]
    deadline_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Off unless RUST_LOG asks: the pipeline's own logs, to see why a run went wrong.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut config = ChaosConfig::ci(args.events);
    config.endpoints = args.endpoints.max(1);
    if let Some(subjects) = args.subjects {
        config.subjects = subjects;
    }
    config.seed = args.seed;
    config.fault_rate = args.fault_rate.clamp(0.0, 1.0);
    config.kill_every = (args.kill_every_ms > 0).then(|| Duration::from_millis(args.kill_every_ms));
    config.duplicate_rate = args.duplicate_rate.clamp(0.0, 1.0);
    config.enqueue_error_rate = args.enqueue_error_rate.clamp(0.0, 1.0);
    config.dead_letter_error_rate = args.dead_letter_error_rate.clamp(0.0, 1.0);
    config.workers = args.workers.max(1);
    config.deadline = Duration::from_secs(args.deadline_secs);
    config.progress = true;
    let aws_endpoint = match (args.aws_endpoint, args.moto) {
        (Some(url), _) => Some(url),
        (None, true) => Some(
            authhooks_tests::moto::Moto::shared()
                .endpoint_url()
                .to_owned(),
        ),
        (None, false) => None,
    };
    if let Some(url) = aws_endpoint {
        config.backend = Backend::Aws {
            url,
            prefix: format!("chaos-{}-{}", std::process::id(), args.seed),
        };
        // Slower API calls between receive and claim: a longer visibility timeout keeps
        // the claim lease shorter than it.
        config.queue.visibility = Duration::from_secs(6);
    }
    match run(&config).await {
        Ok(report) => {
            println!("{report}");
            match report.verdict() {
                Ok(()) => ExitCode::SUCCESS,
                Err(wrong) => {
                    eprintln!("FAILED:");
                    for why in wrong {
                        eprintln!("  - {why}");
                    }
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("the chaos run could not complete: {e}");
            ExitCode::from(2)
        }
    }
}
