//! `authhooks endpoints …`: the admin API's endpoint resource (docs/architecture.md §3.2, §3.4). Flags
//! become a JSON body; the server validates it and its field errors are shown as they are.

use std::process::ExitCode;

use authhooks::wire::{
    CreatedEndpoint, EndpointHealth, EndpointView, List, Recovered, RotatedSecret, TestSent,
};
use reqwest::Method;
use serde::de::IgnoredAny;

use super::endpoint_args::{add_body, patch_body, AddArgs, UpdateArgs};
use super::endpoint_view::{list_rows, view_rows, LIST_HEADER};
use crate::client::{Api, Conn};
use crate::error::CliError;
use crate::output;

#[derive(clap::Subcommand, Debug)]
pub enum EndpointsCommand {
    /// Subscribe a URL to event types; prints the endpoint and its signing secret
    Add(AddArgs),
    /// List endpoints
    List {
        /// Most items on one page
        #[arg(long)]
        limit: Option<u32>,
        /// The page after the one that printed this cursor
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one endpoint
    Get { id: String },
    /// Change the given fields of an endpoint; an empty --description, --origin or --tenant
    /// clears it
    Update(UpdateArgs),
    /// Delete an endpoint
    Rm { id: String },
    /// Replace the signing secret (the old one stays valid for a grace period)
    RotateSecret { id: String },
    /// Send a test event to this endpoint alone
    Test { id: String },
    /// It is back, send now: close the circuit and send the endpoint's waiting deliveries
    /// (retries scheduled ahead, deferred jobs) without waiting for their time
    Recover { id: String },
    /// Its circuit, failures in a row, last recover and newest delivery given up on
    Health { id: String },
}

pub async fn run(command: EndpointsCommand, conn: &Conn, json: bool) -> Result<ExitCode, CliError> {
    let api = Api::admin(conn)?;
    match command {
        EndpointsCommand::Add(args) => {
            let body = add_body(args)?;
            let created: CreatedEndpoint = api
                .call(Method::POST, &["v1", "endpoints"], Some(&body))
                .await?;
            if json {
                output::json(&created)?;
            } else {
                output::line(output::details(view_rows(&created.endpoint)))?;
                output::secret("Signing secret", &created.secret)?;
            }
        }
        EndpointsCommand::List { limit, cursor } => {
            let query = [("limit", limit.map(|n| n.to_string())), ("cursor", cursor)];
            let answer: List<EndpointView> = api.get(&["v1", "endpoints"], &query).await?;
            if json {
                output::json(&answer)?;
            } else {
                let rows = answer.items.iter().map(list_rows);
                output::line(output::table(&LIST_HEADER, rows))?;
                output::next_page(&answer, "authhooks endpoints list")?;
            }
        }
        EndpointsCommand::Get { id } => {
            let view: EndpointView = api.get(&["v1", "endpoints", &id], &[]).await?;
            show_endpoint(&view, json)?;
        }
        EndpointsCommand::Update(args) => {
            let body = patch_body(&args)?;
            let path = ["v1", "endpoints", args.id.as_str()];
            let view: EndpointView = api.call(Method::PATCH, &path, Some(&body)).await?;
            show_endpoint(&view, json)?;
        }
        EndpointsCommand::Rm { id } => {
            api.call::<IgnoredAny>(Method::DELETE, &["v1", "endpoints", &id], None)
                .await?;
            if !json {
                output::line(format!("deleted {id}"))?;
            }
        }
        EndpointsCommand::RotateSecret { id } => {
            let path = ["v1", "endpoints", id.as_str(), "rotate-secret"];
            let answer: RotatedSecret = api.call(Method::POST, &path, None).await?;
            if json {
                output::json(&answer)?;
            } else {
                output::secret(&format!("New signing secret of {id}"), &answer.secret)?;
            }
        }
        EndpointsCommand::Test { id } => {
            let path = ["v1", "endpoints", id.as_str(), "test"];
            let answer: TestSent = api.call(Method::POST, &path, None).await?;
            if json {
                output::json(&answer)?;
            } else {
                let event = &answer.event_id;
                output::line(format!(
                    "sent test event {event} to {id}; see `authhooks events attempts {event}`"
                ))?;
            }
        }
        EndpointsCommand::Recover { id } => {
            let path = ["v1", "endpoints", id.as_str(), "recover"];
            let answer: Recovered = api.call(Method::POST, &path, None).await?;
            if json {
                output::json(&answer)?;
            } else {
                output::line(format!(
                    "recovered {id}: circuit {}; {} waiting deliveries sent now, any others at \
                     their next look (docs/operations.md)",
                    answer.circuit, answer.brought_forward
                ))?;
            }
        }
        EndpointsCommand::Health { id } => {
            let path = ["v1", "endpoints", id.as_str(), "health"];
            let health: EndpointHealth = api.call(Method::GET, &path, None).await?;
            if json {
                output::json(&health)?;
            } else {
                output::line(output::details(health_rows(&health)))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn health_rows(health: &EndpointHealth) -> Vec<(&'static str, String)> {
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_owned(), |t| t.to_rfc3339());
    let last = health.last_failure.as_ref().map_or("-".to_owned(), |f| {
        let status = f.last_status.map_or(String::new(), |s| format!(" {s}"));
        format!(
            "{} {} ({:?}{status})",
            f.failed_at.to_rfc3339(),
            f.event_id,
            f.reason
        )
    });
    vec![
        ("id", health.id.to_string()),
        ("enabled", health.enabled.to_string()),
        (
            "disabled_reason",
            health.disabled_reason.clone().unwrap_or_else(|| "-".into()),
        ),
        ("circuit", health.circuit.clone()),
        ("failures_in_a_row", health.consecutive_failures.to_string()),
        ("open_since", time(health.open_since)),
        ("recovered_at", time(health.recovered_at)),
        ("last_failure", last),
    ]
}

fn show_endpoint(view: &EndpointView, json: bool) -> Result<(), CliError> {
    if json {
        output::json(view)
    } else {
        output::line(output::details(view_rows(view)))
    }
}
