//! Metrics as CloudWatch Embedded Metric Format: the worker's one line per batch without
//! dimensions (what the alarms read) and, when asked for, one per endpoint (dimension
//! `endpoint_id`: each endpoint is then a custom metric per name, billed monthly); the dlq
//! function's line per batch of recorded failures. Lambda ships stdout to CloudWatch Logs,
//! which turns these lines into metrics — no API calls.
//!
//! Written with serde_json rather than a metrics crate: the format is one JSON object, and
//! the crates that emit it keep a process-wide registry flushed on their own schedule,
//! which fits a Lambda invocation's batch worse than a line per batch.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::app::deliver::{BatchReport, EndpointStats};
use crate::app::failures::RecordReport;

pub const NAMESPACE: &str = "authhooks";

/// Where EMF lines go: stdout on Lambda, memory in tests.
pub type MetricsOut = Arc<dyn Fn(&str) + Send + Sync>;

/// Straight to stdout, unformatted: CloudWatch reads metrics from raw EMF lines.
pub fn stdout() -> MetricsOut {
    Arc::new(|line| println!("{line}"))
}

/// The dlq function's line for one batch: `failures_recorded` counts every failure it
/// recorded, `redriven` those SQS itself moved to the DLQ (a job the worker never
/// finished in `maxReceiveCount` receives). The DLQ is emptied as letters arrive, so
/// these counts are what stays to alarm on. A fan-out task SQS redrove (its expansion
/// failed that often) is sent back rather than recorded, but counts as `redriven` too: the
/// same crashes or timeouts are behind it. None when nothing was recorded or returned.
pub fn recorder_line(report: &RecordReport, timestamp_ms: i64) -> Option<String> {
    if report.recorded == 0 && report.fan_outs_returned == 0 {
        return None;
    }
    let line = json!({
        "failures_recorded": report.recorded,
        "redriven": report.redriven + report.fan_outs_returned,
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "failures_recorded", "Unit": "Count"},
                    {"Name": "redriven", "Unit": "Count"},
                ],
            }]
        }
    });
    Some(line.to_string())
}

const COUNTS: [&str; 5] = [
    "delivered",
    "retried",
    "deferred_circuit",
    "deferred_rate",
    "dead_lettered",
];

fn values(stats: &EndpointStats) -> [u32; 5] {
    [
        stats.delivered,
        stats.retried,
        stats.deferred_circuit,
        stats.deferred_rate,
        stats.dead_lettered,
    ]
}

fn line(timestamp_ms: i64, dimension: Option<(&str, &str)>, stats: &EndpointStats) -> String {
    let mut metrics: Vec<Value> = COUNTS
        .iter()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut root = Map::new();
    for (name, value) in COUNTS.iter().zip(values(stats)) {
        root.insert((*name).to_owned(), value.into());
    }
    if !stats.latencies_ms.is_empty() {
        metrics.push(json!({"Name": "latency_ms", "Unit": "Milliseconds"}));
        root.insert("latency_ms".into(), json!(stats.latencies_ms));
    }
    let dimensions: Vec<Vec<&str>> = match dimension {
        Some((name, value)) => {
            root.insert(name.to_owned(), value.into());
            vec![vec![name]]
        }
        None => vec![vec![]],
    };
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": metrics,
            }]
        }),
    );
    Value::Object(root).to_string()
}

/// The lines for one batch: each endpoint's when `per_endpoint`, then the batch's totals.
pub fn emf_lines(report: &BatchReport, timestamp_ms: i64, per_endpoint: bool) -> Vec<String> {
    let mut total = EndpointStats::default();
    let mut lines = Vec::with_capacity(report.endpoints.len() + 1);
    for (endpoint_id, stats) in &report.endpoints {
        if per_endpoint {
            lines.push(line(
                timestamp_ms,
                Some(("endpoint_id", endpoint_id.as_str())),
                stats,
            ));
        }
        // Per endpoint, dead letters count when decided (`report.totals` counts them once
        // the DLQ took them), so the metric's total is summed from the endpoints.
        total += stats;
    }
    if !report.endpoints.is_empty() {
        lines.push(line(timestamp_ms, None, &total));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::EndpointId;

    fn two_endpoints() -> BatchReport {
        let mut report = BatchReport::default();
        for (id, delivered, latency) in [("ep_a", 2, vec![10, 20]), ("ep_b", 1, vec![5])] {
            report.endpoints.insert(
                EndpointId::parse(id).unwrap(),
                EndpointStats {
                    delivered,
                    dead_lettered: 1,
                    latencies_ms: latency,
                    ..EndpointStats::default()
                },
            );
        }
        report
    }

    #[test]
    fn each_endpoint_gets_a_line_and_the_batch_a_total() {
        let report = two_endpoints();
        let lines: Vec<Value> = emf_lines(&report, 1_800_000_000_000, true)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["endpoint_id"], "ep_a");
        assert_eq!(lines[0]["delivered"], 2);
        assert_eq!(lines[0]["latency_ms"], json!([10, 20]));
        let meta = &lines[0]["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], "authhooks");
        assert_eq!(meta["Dimensions"], json!([["endpoint_id"]]));
        let names: Vec<&str> = meta["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "delivered",
                "retried",
                "deferred_circuit",
                "deferred_rate",
                "dead_lettered",
                "latency_ms"
            ]
        );
        // The totals line has no dimensions, so an alarm can watch dead_lettered overall.
        assert_eq!(
            lines[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(lines[2]["dead_lettered"], 2);
        assert_eq!(lines[2]["latency_ms"], json!([10, 20, 5]));
        assert_eq!(lines[2]["_aws"]["Timestamp"], 1_800_000_000_000_i64);
    }

    #[test]
    fn without_per_endpoint_metrics_only_the_totals_line_is_written() {
        let lines: Vec<Value> = emf_lines(&two_endpoints(), 0, false)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            lines[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(lines[0]["delivered"], 3);
        assert_eq!(lines[0]["dead_lettered"], 2);
        assert!(lines[0].get("endpoint_id").is_none());
    }

    #[test]
    fn a_returned_fan_out_task_counts_as_redriven() {
        let report = RecordReport {
            fan_outs_returned: 2,
            ..RecordReport::default()
        };
        let line: Value = serde_json::from_str(&recorder_line(&report, 0).unwrap()).unwrap();
        assert_eq!(line["redriven"], 2);
        assert_eq!(line["failures_recorded"], 0);
    }

    #[test]
    fn an_empty_batch_emits_nothing() {
        assert!(emf_lines(&BatchReport::default(), 0, true).is_empty());
        assert!(recorder_line(&RecordReport::default(), 0).is_none());
    }
}
