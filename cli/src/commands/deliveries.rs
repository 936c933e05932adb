//! `authhooks deliveries …`: the delivery log (every attempt of the last 7 days, newest
//! first) and the overview of the last hour and day.

use std::process::ExitCode;

use authhooks::domain::delivery_log::LogEntry;
use authhooks::wire::List;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::client::{Api, Conn};
use crate::commands::failures::parse_time;
use crate::error::CliError;
use crate::output::{self, field};

/// Longest error or snippet shown in the table; `--json` gives all of it.
const DETAIL_CHARS: usize = 60;

#[derive(clap::Subcommand, Debug)]
pub enum DeliveriesCommand {
    /// Search attempts, newest first
    List(SearchArgs),
    /// Attempts, success rate and latency over the last hour and day
    Overview,
}

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    #[arg(long, value_name = "ID")]
    pub endpoint: Option<String>,
    /// delivered, retrying or failed
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, value_name = "TYPE")]
    pub event_type: Option<String>,
    #[arg(long)]
    pub subject: Option<String>,
    /// One event's attempts at every endpoint
    #[arg(long, value_name = "ID")]
    pub event: Option<String>,
    /// One delivery's attempts
    #[arg(long, value_name = "ID")]
    pub delivery: Option<String>,
    /// Attempts at or after this time (RFC 3339)
    #[arg(long, value_parser = parse_time, value_name = "RFC3339")]
    pub since: Option<DateTime<Utc>>,
    /// Attempts before this time (RFC 3339)
    #[arg(long, value_parser = parse_time, value_name = "RFC3339")]
    pub until: Option<DateTime<Utc>>,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub cursor: Option<String>,
}

pub async fn run(
    command: DeliveriesCommand,
    conn: &Conn,
    json: bool,
) -> Result<ExitCode, CliError> {
    let api = Api::admin(conn)?;
    match command {
        DeliveriesCommand::List(args) => {
            let time = |t: Option<DateTime<Utc>>| {
                t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            };
            let query = [
                ("endpoint_id", args.endpoint),
                ("status", args.status),
                ("event_type", args.event_type),
                ("subject", args.subject),
                ("event_id", args.event),
                ("delivery_id", args.delivery),
                ("since", time(args.since)),
                ("until", time(args.until)),
                ("limit", args.limit.map(|n| n.to_string())),
                ("cursor", args.cursor),
            ];
            let answer: List<LogEntry> = api.get(&["v1", "deliveries"], &query).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            let header = [
                "at", "delivery", "event", "type", "endpoint", "subject", "attempt", "status",
                "http", "ms", "error",
            ];
            let rows = answer.items.iter().map(|e| {
                let detail = e.error.as_ref().or(e.snippet.as_ref());
                vec![
                    field(&e.at),
                    field(&e.delivery_id),
                    field(&e.event_id),
                    field(&e.event_type),
                    field(&e.endpoint_id),
                    field(&e.subject),
                    field(&e.attempt),
                    field(&e.status),
                    field(&e.http_status),
                    field(&e.latency_ms),
                    field(&detail).chars().take(DETAIL_CHARS).collect(),
                ]
            });
            output::line(output::table(&header, rows))?;
            output::next_page(&answer, "authhooks deliveries list")?;
        }
        DeliveriesCommand::Overview => {
            let answer: Value = api.get(&["v1", "deliveries", "overview"], &[]).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            let header = [
                "window",
                "attempts",
                "delivered",
                "retrying",
                "failed",
                "success",
                "p50 ms",
                "p95 ms",
                "p99 ms",
            ];
            let rows = ["last_hour", "last_day"].into_iter().map(|window| {
                let s = &answer[window];
                let rate = s["success_rate"]
                    .as_f64()
                    .map(|r| format!("{:.1}%", r * 100.0));
                let bound = |name: &str| match &s[name] {
                    Value::Null if s["attempts"].as_u64().unwrap_or(0) > 0 => "> 10000".into(),
                    v => field(v),
                };
                vec![
                    window.replace('_', " "),
                    field(&s["attempts"]),
                    field(&s["delivered"]),
                    field(&s["retrying"]),
                    field(&s["failed"]),
                    field(&rate),
                    bound("p50_latency_ms"),
                    bound("p95_latency_ms"),
                    bound("p99_latency_ms"),
                ]
            });
            output::line(output::table(&header, rows))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
