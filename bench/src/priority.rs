//! `authhooks-bench priority`: latency of priority deliveries (revocations) while a backlog
//! of bulk deliveries waits, in local mode with the priority lane and without it.
//!
//! One in-process `LocalMode` per run: a bulk endpoint on `user.*` whose sink answers after
//! `--bulk-ms`, so the bulk deliveries queue up, and a security endpoint on `session.*`
//! whose sink answers at once. `--bulk` events are posted in batches of 100 first; then
//! one `session.revoked` per POST at `--rate` for `--secs`, each timed from just before its
//! POST to its receipt. The lane is the only difference between the two runs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use authhooks::domain::priority::PriorityTypes;
use serde_json::json;

use crate::client::{batch_bodies, Subjects};
use crate::local::load::post_all;
use crate::local::start_in_process;
use crate::sink::{FirstAttempt, Sink};
use crate::stats::{percentile_ms, Table};

#[derive(Debug, clap::Args)]
pub struct PriorityArgs {
    /// Bulk events queued before the priority ones are posted.
    #[arg(long, default_value_t = 100_000)]
    bulk: usize,
    /// How long the bulk endpoint's receiver takes to answer, so the bulk work queues up.
    #[arg(long, default_value_t = 10)]
    bulk_ms: u64,
    /// Priority events posted per second (one per POST).
    #[arg(long, default_value_t = 20)]
    rate: u32,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// How long to wait for the last priority delivery before counting the rest as late.
    #[arg(long, default_value_t = 30)]
    patience_secs: u64,
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

pub async fn run(args: PriorityArgs) -> anyhow::Result<()> {
    println!(
        "{} bulk events to a receiver answering in {} ms, then {} session.revoked/s for {} s",
        args.bulk, args.bulk_ms, args.rate, args.secs
    );
    let mut table = Table::new(&[
        "lane",
        "priority delivered",
        "p50",
        "p99",
        "max",
        "bulk still queued at the last priority post",
    ]);
    for (name, types) in [
        ("on", PriorityTypes::default()),
        ("off", PriorityTypes::parse("").map_err(anyhow::Error::msg)?),
    ] {
        table.row(measure(&args, name, types).await?);
    }
    println!("{table}");
    Ok(())
}

async fn measure(
    args: &PriorityArgs,
    name: &str,
    types: PriorityTypes,
) -> anyhow::Result<Vec<String>> {
    let (target, running) = start_in_process(args.workers, types).await?;
    let bulk = Sink::answering_after(FirstAttempt::Ok, Duration::from_millis(args.bulk_ms)).await?;
    let fast = Sink::start(FirstAttempt::Ok).await?;
    let ordering = Some(json!({"ordering": "none", "event_types": ["user.*"]}));
    target.add_endpoint(&bulk.url(0), ordering).await?;
    let security = Some(json!({"ordering": "none", "event_types": ["session.*"]}));
    target.add_endpoint(&fast.url(0), security).await?;

    let bodies = batch_bodies(
        &format!("bulk_{name}"),
        args.bulk,
        100,
        Subjects::Spread(1000),
    );
    let refused = post_all(&target, bodies, 4, &format!("bulk_{name}")).await;
    anyhow::ensure!(refused == 0, "{refused} bulk requests refused");

    let total = usize::try_from(u64::from(args.rate) * args.secs)?;
    let gap = Duration::from_secs(1) / args.rate.max(1);
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(total);
    let start = Instant::now();
    for i in 0..total {
        let due = start + gap * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let id = format!("revoke_{name}_{i}");
        let body = json!({"id": id, "type": "session.revoked", "subject": format!("s_{i}"),
                          "data": {"session": {"id": format!("s_{i}")}}});
        sent.insert(id.clone(), Instant::now());
        let status = target
            .post_events(serde_json::to_vec(&body)?, &format!("msg_{id}"))
            .await?;
        anyhow::ensure!(status == 202, "a priority event was refused ({status})");
    }
    let queued = (args.bulk as u64).saturating_sub(bulk.received());
    let deadline = Instant::now() + Duration::from_secs(args.patience_secs);
    while fast.received() < total as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let receipts = fast.receipts();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, at)| receipts.get(&(0, id.clone())).map(|got| *got - *at))
        .collect();
    latencies.sort();
    running.shutdown().await;
    let pct = |q| format!("{:.1} ms", percentile_ms(&latencies, q));
    Ok(vec![
        name.to_owned(),
        format!(
            "{}/{total} within {} s",
            latencies.len(),
            args.patience_secs
        ),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        queued.to_string(),
    ])
}
