//! The two kinds of load one run of `authhooks-bench local` offers: saturation (batches
//! posted as fast as ingest takes them, timed to the last receipt) and latency at a fixed
//! offered rate, one event per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::{LocalArgs, Mode, Run};
use crate::client::{batch_bodies, event, Subjects, Target};
use crate::machine::{cpu_per_unit_ms, load_average, process_cpu};
use crate::sink::Sink;
use crate::stats::{percentile_ms, Table};

/// How long a drain waits for one more receipt before it gives up on the rest.
const DRAIN_STALL: Duration = Duration::from_secs(30);

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(what.to_owned());
    let style = ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Waits until the sink has `expected` more receipts than `base`, or until none has come
/// for [`DRAIN_STALL`] (a slow run still finishes; a stuck one does not hang the bench).
pub(crate) async fn drain(
    sink: &Sink,
    base: u64,
    expected: u64,
    progress: &ProgressBar,
) -> Instant {
    let (mut seen, mut last_progress) = (sink.received(), Instant::now());
    while sink.received() - base < expected && last_progress.elapsed() < DRAIN_STALL {
        let now = sink.received();
        if now != seen {
            (seen, last_progress) = (now, Instant::now());
        }
        progress.set_position(now - base);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    progress.finish();
    Instant::now()
}

/// Posts every body from `concurrency` clients at once, in order (a subject's events are
/// accepted, so ordered, as numbered, give or take the clients' concurrency); returns how
/// many were not accepted.
pub(crate) async fn post_all(
    target: &Target,
    mut bodies: Vec<Vec<u8>>,
    concurrency: usize,
    tag: &str,
) -> u64 {
    // The posters pop from the end.
    bodies.reverse();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let posters: Vec<_> = (0..concurrency.max(1))
        .map(|c| {
            let (queue, target, tag) = (queue.clone(), target.clone(), tag.to_owned());
            tokio::spawn(async move {
                let mut refused = 0u64;
                for k in 0.. {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(body) = next else { break };
                    match target
                        .post_events(body, &format!("msg_{tag}_{c}_{k}"))
                        .await
                    {
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
    refused
}

/// Posts `events` in batches from concurrent clients and waits for every receipt; returns
/// deliveries per second from the first POST to the last receipt.
pub(super) async fn saturate(
    args: &LocalArgs,
    run: &Run,
    events: usize,
    target: &Target,
    sink: &Arc<Sink>,
    table: &mut Table,
) -> anyhow::Result<f64> {
    let expected = (events as u64) * u64::from(args.endpoints);
    let progress = bar(expected, &format!("saturation {}", run.mode.name()));
    let (base, base_requests, base_inversions) =
        (sink.received(), sink.requests(), sink.inversions());
    let tag = &run.tag;
    let batches = batch_bodies(&format!("evt_{tag}_sat"), events, args.batch, run.subjects);
    let cpu_before = process_cpu();
    let start = Instant::now();
    let refused = post_all(target, batches, args.concurrency, tag).await;
    let ingested = start.elapsed();
    let end = drain(sink, base, expected, &progress).await;
    let got = sink.received() - base;
    let secs = (end - start).as_secs_f64();
    let rate = got as f64 / secs;
    // The whole process: producer, ingest, workers, sender and sink together.
    let cpu = cpu_per_unit_ms(cpu_before, process_cpu(), got)
        .map(|ms| format!(", CPU {ms:.3} ms/delivery"))
        .unwrap_or_default();
    table.row(vec![
        format!("saturation, {} ({} workers)", run.label, args.workers),
        format!(
            "{events} events × {} endpoint(s), batches of {}",
            args.endpoints, args.batch
        ),
        format!(
            "ingest {:.0} events/s ({} refused)",
            events as f64 / ingested.as_secs_f64(),
            refused
        ),
        format!(
            "{got}/{expected} in {secs:.2} s ({} sink requests, {} out of order)",
            sink.requests() - base_requests,
            sink.inversions() - base_inversions
        ),
        format!("{rate:.0} deliveries/s{cpu}"),
        load_average(),
        match run.mode {
            // One subject is one line, sequential by contract: no throughput bar applies.
            Mode::HotSubject => "—".to_owned(),
            Mode::None | Mode::Subject => verdict(rate >= 5000.0, "≥ 5 000/s"),
        },
    ]);
    Ok(rate)
}

/// What an open-loop run at a fixed rate saw: every latency ingest→receipt, sorted.
pub(crate) struct Offered {
    pub total: u64,
    pub refused: u64,
    pub latencies: Vec<Duration>,
    pub lost: u64,
}

/// Offers `rate` events/s for `secs` seconds, one event per request, each request leaving
/// on schedule whatever the answers (open loop), and matches receipts to sends.
pub(crate) async fn offer(
    target: &Target,
    sink: &Arc<Sink>,
    (rate, secs): (u32, u64),
    endpoints: u32,
    tag: &str,
    subjects: Subjects,
) -> Offered {
    let total = u64::from(rate) * secs;
    let expected = total * u64::from(endpoints);
    let progress = bar(expected, &format!("{rate} events/s"));
    let base = sink.received();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(total as usize);
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        tokio::time::sleep_until(start + interval.mul_f64(i as f64)).await;
        let id = format!("evt_{tag}_r{rate}_{i}");
        let body = serde_json::to_vec(&event(&id, &subjects.of(i as usize))).unwrap_or_default();
        let target = target.clone();
        // The ingest timestamp is taken just before the POST leaves.
        sent.push((id, Instant::now()));
        let msg_id = format!("msg_{tag}_r{rate}_{i}");
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
        for n in 0..endpoints {
            match receipts.get(&(n, id.clone())) {
                Some(got) => latencies.push(got.saturating_duration_since(*at)),
                None => lost += 1,
            }
        }
    }
    latencies.sort();
    Offered {
        total,
        refused,
        latencies,
        lost,
    }
}

pub(super) async fn latency(
    args: &LocalArgs,
    run: &Run,
    target: &Target,
    sink: &Arc<Sink>,
    rate: u32,
    table: &mut Table,
) -> anyhow::Result<()> {
    let base_inversions = sink.inversions();
    let offered = offer(
        target,
        sink,
        (rate, args.secs),
        args.endpoints,
        &run.tag,
        run.subjects,
    )
    .await;
    let expected = offered.total * u64::from(args.endpoints);
    let latencies = &offered.latencies;
    let p99 = percentile_ms(latencies, 0.99);
    table.row(vec![
        format!("latency {rate}/s × {} s, {}", args.secs, run.label),
        format!("{rate} events/s, 1 event per POST"),
        format!("{} ({} refused)", offered.total, offered.refused),
        format!(
            "{}/{expected} ({} missing, {} out of order)",
            latencies.len(),
            offered.lost,
            sink.inversions() - base_inversions
        ),
        format!(
            "p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
            percentile_ms(latencies, 0.50),
            percentile_ms(latencies, 1.0)
        ),
        load_average(),
        if rate == 1000 {
            verdict(p99 <= 20.0 && offered.lost == 0, "p99 ≤ 20 ms")
        } else {
            "—".to_owned()
        },
    ]);
    Ok(())
}

pub(crate) fn verdict(met: bool, bar: &str) -> String {
    format!("{bar}: {}", if met { "met" } else { "MISSED" })
}
