//! Metrics as CloudWatch Embedded Metric Format: one JSON line per endpoint per batch
//! (dimension `endpoint_id`) and one without dimensions for alarms on totals. Lambda
//! ships stdout to CloudWatch Logs, which turns these lines into metrics — no API calls.
//!
//! Written with serde_json rather than a metrics crate: the format is one JSON object, and
//! the crates that emit it keep a process-wide registry flushed on their own schedule,
//! which fits a Lambda invocation's batch worse than a line per batch.

use serde_json::{json, Map, Value};

use crate::app::deliver::{BatchReport, EndpointStats};

pub const NAMESPACE: &str = "authhooks";

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

/// The lines for one batch: each endpoint's, then the batch's totals.
pub fn emf_lines(report: &BatchReport, timestamp_ms: i64) -> Vec<String> {
    let mut total = EndpointStats::default();
    let mut lines = Vec::with_capacity(report.endpoints.len() + 1);
    for (endpoint_id, stats) in &report.endpoints {
        lines.push(line(
            timestamp_ms,
            Some(("endpoint_id", endpoint_id.as_str())),
            stats,
        ));
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

    #[test]
    fn each_endpoint_gets_a_line_and_the_batch_a_total() {
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
        let lines: Vec<Value> = emf_lines(&report, 1_800_000_000_000)
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
    fn an_empty_batch_emits_nothing() {
        assert!(emf_lines(&BatchReport::default(), 0).is_empty());
    }
}
