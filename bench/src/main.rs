//! `authhooks-bench`: measures authhooks against the quality bars of docs/architecture.md
//! §4 — local-mode load and its ratio to the machine's limit, fan-out, AWS requests per
//! delivery, cold init, worker memory and the script sandbox's cost.
//! Everything runs on loopback; every run is bounded. Results go in BENCHMARKS.md.

mod aws;
mod aws_cost;
mod aws_ordered;
mod aws_run;
mod batching;
mod client;
mod counter;
mod dev;
mod fanout;
mod footprint;
mod local;
mod log_bytes;
mod machine;
mod priority;
mod ratio;
mod scripts;
mod sink;
mod stats;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "authhooks-bench",
    about = "Benchmarks authhooks against its quality bars"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Local mode end to end: saturation throughput and latency at fixed rates.
    Local(local::LocalArgs),
    /// Local mode against the machine's own limit (a minimal client to the same sink), with
    /// CPU per delivery and per single-event POST, and latency at 5 000 events/s.
    Ratio(ratio::RatioArgs),
    /// AWS requests, write units and cost per delivery, counted against moto.
    Aws(aws_run::AwsArgs),
    /// One event to many endpoints: ingest CPU per event, and `authhooks dev`'s memory and
    /// time through a fan-out of a million deliveries.
    FanOut(fanout::FanOutArgs),
    /// Priority deliveries' latency while 100 000 bulk deliveries wait, with the priority
    /// lane and without.
    Priority(priority::PriorityArgs),
    /// What batched delivery saves: requests and CPU per event, one a POST against batches.
    Batch(batching::BatchArgs),
    /// What a source's script costs: the sandbox alone, and an inbound request against a
    /// plain ingest of the same event.
    Script(scripts::ScriptArgs),
    /// Each function's cold init, timed in fresh processes against moto.
    Init(footprint::InitArgs),
    /// Peak RSS of a worker process handling one batch of 10.
    Rss,
    /// (internal) one cold init in this process.
    #[command(hide = true)]
    InitChild { function: String },
    /// (internal) the worker process `rss` measures.
    #[command(hide = true)]
    RssChild,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Local(args) => local::run(args).await,
        Command::Ratio(args) => ratio::run(args).await,
        Command::Aws(args) => aws_run::run(args).await,
        Command::FanOut(args) => fanout::run(args).await,
        Command::Priority(args) => priority::run(args).await,
        Command::Batch(args) => batching::run(args).await,
        Command::Script(args) => scripts::run(args).await,
        Command::Init(args) => footprint::init(args).await,
        Command::Rss => footprint::rss().await,
        Command::InitChild { function } => footprint::init_child(&function).await,
        Command::RssChild => footprint::rss_child().await,
    }
}
