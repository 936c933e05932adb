//! The chaos harness in its CI setting: every fault kind at once — 5xx, 429 with
//! Retry-After, timeouts, connection resets, slow bodies, a dead endpoint, workers killed
//! mid-batch, jobs queued twice, batches posted twice, the workers' own re-enqueues and
//! dead letters refused — and the run must pass the harness's one verdict
//! (`ChaosReport::verdict`, the same the `authhooks-chaos` binary applies): nothing lost,
//! every flaky delivery delivered and every dead one recorded as failed, duplicates and
//! the dead endpoint's attempts within what the injected faults explain. Then the same,
//! smaller, over SQS and DynamoDB (moto).

use std::time::Duration;

use authhooks_tests::chaos::{run, Backend, ChaosConfig, ChaosReport};
use authhooks_tests::moto::Moto;

fn assert_verdict(report: &ChaosReport) {
    println!("{report}");
    if let Err(wrong) = report.verdict() {
        panic!(
            "the chaos run failed its verdict:\n  - {}",
            wrong.join("\n  - ")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_under_every_fault_nothing_is_lost() {
    let report = run(&ChaosConfig::ci(1_000)).await.unwrap();
    assert_verdict(&report);
    // The faults really happened.
    assert!(
        report.stats.kills_mid_batch > 0,
        "no worker was killed mid-batch"
    );
    assert!(report.stats.duplicated_jobs > 0);
    assert!(report.reposted_events > 0);
    assert!(
        report.stats.enqueue_errors > 0,
        "no worker re-enqueue was refused"
    );
    assert!(
        report.stats.dead_letter_errors > 0,
        "no worker dead letter was refused"
    );
    // Order was judged where it could break: subjects with several changes at ordered
    // endpoints whose first attempts failed now and then.
    let ordered = &report.endpoints[0];
    assert!(ordered.ordered && !ordered.dead);
    assert!(
        ordered.subjects_in_order >= 50,
        "only {} subjects with several changes at {}",
        ordered.subjects_in_order,
        ordered.name
    );
    assert!(report.endpoints.iter().any(|r| !r.ordered));
    let flaky = &report.endpoints[0];
    for kind in ["5xx", "429", "timeout", "reset", "slow-body"] {
        assert!(
            flaky.faults.iter().any(|(f, n)| f.name() == kind && *n > 0),
            "no {kind} injected: {:?}",
            flaky.faults
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_sqs_and_dynamodb_nothing_is_lost() {
    let mut config = ChaosConfig::ci(40);
    config.backend = Backend::Aws {
        url: Moto::shared().endpoint_url().to_owned(),
        prefix: Moto::unique("chaos"),
    };
    config.endpoints = 3;
    config.dead_every = 10;
    config.kill_every = Some(Duration::from_millis(1_500));
    config.queue.visibility = Duration::from_secs(6);
    config.deadline = Duration::from_secs(100);
    let report = run(&config).await.unwrap();
    assert_verdict(&report);
}
