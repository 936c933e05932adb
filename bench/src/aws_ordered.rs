//! The cases of `authhooks-bench aws` on ordered endpoints (`"ordering": "subject"`): jobs
//! go to the FIFO queue, whose Lambda mapping is played like the standard queue's, and a
//! retry holds the message in place (ChangeMessageVisibilityBatch) and pauses its claim
//! with the attempts so far (an UpdateItem) instead of re-enqueueing it.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use serde_json::json;

use crate::aws::{ids, Case, Stack};
use crate::client::Subjects;
use crate::counter::Counter;
use crate::sink::FirstAttempt;

/// Ingest's batches: as in the unordered cases' batched rows.
const PER_POST: usize = 100;

pub async fn cases(
    sdk: &SdkConfig,
    counter: &Counter,
    n: usize,
) -> anyhow::Result<Vec<(Case, u64)>> {
    let mut cases = Vec::new();
    for (what, subjects) in [
        ("distinct subjects", Subjects::Spread(n)),
        ("one subject", Subjects::One),
    ] {
        let stack = Stack::create(sdk, counter).await?;
        let sink = crate::aws::receiver(FirstAttempt::Ok).await?;
        stack
            .add_endpoint(&sink.url(0), Some(json!({"ordering": "subject"})))
            .await?;
        counter.take();
        let events = ids(&format!("ord_{}", tag(subjects)), n);
        let began = Instant::now();
        stack.ingest(&events, PER_POST, subjects).await?;
        let ingest_secs = began.elapsed().as_secs_f64();
        let (batches, busy) = stack
            .pump(&stack.ordered, &sink, n as u64, 0, Duration::from_secs(120))
            .await?;
        println!(
            "ordered success, {what}: {} receipts out of order",
            sink.inversions()
        );
        cases.push((
            Case {
                name: format!("ordered: success, {what}, batch ingest"),
                units: n as u64,
                counts: counter.take(),
                worker_batches: batches,
                worker_secs: busy + ingest_secs,
            },
            n.div_ceil(PER_POST) as u64,
        ));
    }
    // Retried once after 1 s as in the unordered case (circuit kept closed). One subject is
    // the worst case: each batch's head fails, the nine behind it are put back, and the
    // line moves one delivery per hold — so it runs fewer events.
    for (what, subjects, count) in [
        ("distinct subjects", Subjects::Spread(n), n.min(50)),
        ("one subject", Subjects::One, n.min(20)),
    ] {
        let stack = Stack::create(sdk, counter).await?;
        let sink = crate::aws::receiver(FirstAttempt::FailOnce).await?;
        let extra = json!({
            "ordering": "subject",
            "retry": {"schedule_secs": [1]},
            "circuit": {"failure_threshold": 1000}
        });
        stack.add_endpoint(&sink.url(0), Some(extra)).await?;
        counter.take();
        let events = ids(&format!("ord_retry_{}", tag(subjects)), count);
        stack.ingest(&events, PER_POST, subjects).await?;
        let (batches, busy) = stack
            .pump(
                &stack.ordered,
                &sink,
                count as u64,
                1,
                Duration::from_secs(300),
            )
            .await?;
        println!(
            "ordered retried, {what}: {} receipts out of order",
            sink.inversions()
        );
        cases.push((
            Case {
                name: format!("ordered: retried once (503, then 200), {what}, batch ingest"),
                units: count as u64,
                counts: counter.take(),
                worker_batches: batches,
                worker_secs: busy,
            },
            1,
        ));
    }
    Ok(cases)
}

fn tag(subjects: Subjects) -> &'static str {
    match subjects {
        Subjects::One => "one",
        Subjects::Spread(_) => "spread",
    }
}
