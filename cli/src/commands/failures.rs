//! `authhooks failures …` and `authhooks events attempts`: deliveries given up on, their
//! replay, and the attempt history of one event (docs/architecture.md §3.4).

use std::process::ExitCode;

use authhooks::wire::{AttemptList, FailureItem, List, Replayed};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::client::{Api, Conn};
use crate::error::CliError;
use crate::output::{self, field};

/// Longest `last_error` shown in the table; `--json` or `events attempts` give all of it.
const ERROR_CHARS: usize = 60;

#[derive(clap::Subcommand, Debug)]
pub enum FailuresCommand {
    /// List recorded failures, newest first
    List {
        /// Only this endpoint's failures
        #[arg(long, value_name = "ID")]
        endpoint: Option<String>,
        /// Most items on one page
        #[arg(long)]
        limit: Option<u32>,
        /// The page after the one that printed this cursor
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Deliver failed events again: one by id, or --all matching a filter
    Replay(ReplayArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all"])))]
pub struct ReplayArgs {
    /// The failure to replay
    pub id: Option<String>,
    /// Replay every failure matching --endpoint, --since and --until
    #[arg(long)]
    pub all: bool,
    #[arg(long, requires = "all", value_name = "ID")]
    pub endpoint: Option<String>,
    /// Only failures recorded at or after this time (RFC 3339)
    #[arg(long, requires = "all", value_parser = parse_time, value_name = "RFC3339")]
    pub since: Option<DateTime<Utc>>,
    /// Only failures recorded before this time (RFC 3339)
    #[arg(long, requires = "all", value_parser = parse_time, value_name = "RFC3339")]
    pub until: Option<DateTime<Utc>>,
}

#[derive(clap::Subcommand, Debug)]
pub enum EventsCommand {
    /// Every attempt of every delivery of one event
    Attempts { event_id: String },
}

pub async fn run(command: FailuresCommand, conn: &Conn, json: bool) -> Result<ExitCode, CliError> {
    let api = Api::admin(conn)?;
    match command {
        FailuresCommand::List {
            endpoint,
            limit,
            cursor,
        } => {
            let query = [
                ("endpoint_id", endpoint),
                ("limit", limit.map(|n| n.to_string())),
                ("cursor", cursor),
            ];
            let answer: List<FailureItem> = api.get(&["v1", "failures"], &query).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            let header = [
                "id",
                "event",
                "type",
                "endpoint",
                "reason",
                "attempts",
                "last status",
                "last error",
                "failed at",
                "replayed at",
            ];
            let rows = answer.items.iter().map(|f| {
                vec![
                    field(&f.id),
                    field(&f.event_id),
                    field(&f.event_type),
                    field(&f.endpoint_id),
                    field(&f.reason),
                    field(&f.attempts),
                    field(&f.last_status),
                    field(&f.last_error).chars().take(ERROR_CHARS).collect(),
                    field(&f.failed_at),
                    field(&f.replayed_at),
                ]
            });
            output::line(output::table(&header, rows))?;
            output::next_page(&answer, "authhooks failures list")?;
        }
        FailuresCommand::Replay(args) => {
            let answer: Replayed = match &args.id {
                Some(id) => {
                    let path = ["v1", "failures", id.as_str(), "replay"];
                    api.call(Method::POST, &path, None).await?
                }
                None => {
                    let filter = replay_filter(&args);
                    let path = ["v1", "failures", "replay"];
                    api.call(Method::POST, &path, Some(&filter)).await?
                }
            };
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            output::line(match answer.replayed.len() {
                0 => "nothing to replay".to_owned(),
                n => format!("replayed {n}: {}", answer.replayed.join(" ")),
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_events(
    command: EventsCommand,
    conn: &Conn,
    json: bool,
) -> Result<ExitCode, CliError> {
    let EventsCommand::Attempts { event_id } = command;
    let api = Api::admin(conn)?;
    let answer: AttemptList = api
        .get(&["v1", "events", &event_id, "attempts"], &[])
        .await?;
    if json {
        return output::json(&answer).map(|()| ExitCode::SUCCESS);
    }
    let header = ["endpoint", "attempt", "status", "error", "latency ms", "at"];
    let rows = answer.items.iter().map(|a| {
        vec![
            field(&a.endpoint_id),
            field(&a.record.attempt),
            field(&a.record.status),
            field(&a.record.error),
            field(&a.record.latency_ms),
            field(&a.record.at),
        ]
    });
    output::line(output::table(&header, rows))?;
    Ok(ExitCode::SUCCESS)
}

fn replay_filter(args: &ReplayArgs) -> Value {
    let time = |t: &DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let mut filter = Map::new();
    if let Some(endpoint) = &args.endpoint {
        filter.insert("endpoint_id".into(), json!(endpoint));
    }
    if let Some(since) = &args.since {
        filter.insert("failed_after".into(), time(since));
    }
    if let Some(until) = &args.until {
        filter.insert("failed_before".into(), time(until));
    }
    Value::Object(filter)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    // chrono's own reasons ("premature end of input") say less than an example does.
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "expected an RFC 3339 time such as 2026-11-22T10:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_filter_names_the_api_fields() {
        let args = ReplayArgs {
            id: None,
            all: true,
            endpoint: Some("ep_1".into()),
            since: Some(parse_time("2026-11-22T12:00:00+02:00").unwrap()),
            until: None,
        };
        assert_eq!(
            replay_filter(&args),
            json!({"endpoint_id": "ep_1", "failed_after": "2026-11-22T10:00:00Z"})
        );
        assert!(parse_time("last week").is_err());
    }
}
