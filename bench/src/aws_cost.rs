//! The per-delivery table `authhooks-bench aws` prints, with the cost arithmetic at list
//! prices: SQS requests at the standard or the FIFO price by the queue they went to.

use crate::aws::Case;
use crate::counter::{write_units, Counts};
use crate::stats::Table;

/// us-east-1 list prices (see BENCHMARKS.md for sources and dates).
const SQS_PER_REQUEST: f64 = 0.40 / 1e6;
const SQS_FIFO_PER_REQUEST: f64 = 0.50 / 1e6;
const WRU: f64 = 0.625 / 1e6;
const RRU: f64 = 0.125 / 1e6;
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
/// CloudWatch Logs ingestion (standard class), per byte.
const LOG_BYTE: f64 = 0.50 / 1e9;
/// Memory of the ingest and worker functions (GB): template.yaml's `Globals` (256 MB).
const MEMORY_GB: f64 = 0.25;

fn wcu(counts: &Counts) -> u64 {
    counts.write_sizes.iter().map(|s| write_units(*s)).sum()
}

fn rru(counts: &Counts) -> f64 {
    let queries = counts.of("dynamodb.Query") + counts.of("dynamodb.Scan");
    counts.consistent_reads as f64 + counts.eventual_reads as f64 * 0.5 + queries as f64
}

/// One row per case: `(case, ingest POSTs)`, the POSTs being Lambda invocations of ingest.
pub fn report(cases: &[(Case, u64)]) {
    let mut table = Table::new(&[
        "case",
        "requests (total)",
        "SQS req / unit",
        "DDB WRU / unit",
        "DDB RRU / unit",
        "log B / unit",
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
        let fifo = per(case.counts.of("sqs.fifo") as f64);
        let wru = per(wcu(&case.counts) as f64);
        let rru = per(rru(&case.counts));
        let invocations = per((case.worker_batches + ingest_posts) as f64);
        let gb_s = per(case.worker_secs) * MEMORY_GB;
        let sqs_cost = (sqs - fifo) * SQS_PER_REQUEST + fifo * SQS_FIFO_PER_REQUEST;
        let log_bytes = per(case.counts.log_bytes as f64);
        let cost = 1e6
            * (sqs_cost
                + wru * WRU
                + rru * RRU
                + invocations * LAMBDA_REQUEST
                + gb_s * LAMBDA_GB_SECOND
                + log_bytes * LOG_BYTE);
        let breakdown = format!(
            "{cost:.3} = SQS {:.3} + WRU {:.3} + RRU {:.3} + Lambda req {:.3} ({invocations:.3}/unit) + GB-s {:.3} + logs {:.3}",
            1e6 * sqs_cost,
            1e6 * wru * WRU,
            1e6 * rru * RRU,
            1e6 * invocations * LAMBDA_REQUEST,
            1e6 * gb_s * LAMBDA_GB_SECOND,
            1e6 * log_bytes * LOG_BYTE,
        );
        let sqs_column = if fifo > 0.0 {
            format!("{sqs:.3} (FIFO {fifo:.3})")
        } else {
            format!("{sqs:.3}")
        };
        table.row(vec![
            format!("{} (n = {})", case.name, case.units),
            ops.join("\n"),
            sqs_column,
            format!("{wru:.3}"),
            format!("{rru:.3}"),
            format!("{log_bytes:.0}"),
            breakdown,
        ]);
    }
    println!("{table}");
}
