//! The chaos harness in its CI setting: every fault kind at once — 5xx, 429 with
//! Retry-After, timeouts, connection resets, slow bodies, a dead endpoint, workers killed
//! mid-batch, jobs queued twice, batches posted twice — and nothing may be lost: every
//! accepted delivery ends delivered, or recorded as failed if and only if it was the dead
//! endpoint's. Then the same, smaller, over SQS and DynamoDB (moto).

use std::time::Duration;

use authhooks_tests::chaos::{run, Backend, ChaosConfig, ChaosReport};
use authhooks_tests::moto::Moto;

fn assert_nothing_lost(report: &ChaosReport) {
    println!("{report}");
    assert!(report.stats.drained, "the queues never drained");
    assert_eq!(
        report.accepted, report.ingest_deliveries,
        "ingest fanned out differently"
    );
    assert_eq!(report.lost, 0, "deliveries lost");
    assert_eq!(report.unexpected, 0, "deliveries nobody owed");
    assert_eq!(report.bad_signatures, 0);
    assert_eq!(
        report.repost_mismatches, 0,
        "a re-posted event was answered otherwise than at first"
    );
    assert_eq!(
        report.failed_on_flaky, 0,
        "a flaky endpoint's delivery gave up"
    );
    assert_eq!(report.delivered_and_failed, 0);
    let dead = report.endpoints.iter().find(|r| r.dead).unwrap();
    assert!(dead.expected > 0);
    assert_eq!(
        dead.failed, dead.expected,
        "every dead delivery is recorded"
    );
    assert_eq!(report.delivered + report.failed, report.accepted);
    for row in report.endpoints.iter().filter(|r| !r.dead) {
        assert_eq!(row.delivered, row.expected, "{}", row.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_under_every_fault_nothing_is_lost() {
    let report = run(&ChaosConfig::ci(1_000)).await.unwrap();
    assert_nothing_lost(&report);
    // The faults really happened.
    assert!(
        report.stats.kills_mid_batch > 0,
        "no worker was killed mid-batch"
    );
    assert!(report.stats.duplicated_jobs > 0);
    assert!(report.reposted_events > 0);
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
    assert_nothing_lost(&report);
}
