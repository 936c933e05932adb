//! `authhooks sources …`: inbound sources (docs/architecture.md §3.16) — create one from a
//! script file, list, show, change, delete, read its failed requests, and try a script on
//! a sample body without ingesting anything.

use std::path::PathBuf;
use std::process::ExitCode;

use authhooks::wire::{DryRunAnswer, List, SavedSource, SourceFailure, SourceView};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::client::{Api, Conn};
use crate::error::CliError;
use crate::input::read_input;
use crate::output::{self, field};

/// Longest failure message shown in the table; `--json` gives all of it.
const ERROR_CHARS: usize = 80;

#[derive(clap::Subcommand, Debug)]
pub enum SourcesCommand {
    /// Create a source: where another system posts its own webhooks
    Add(SourceArgs),
    /// List sources
    List {
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one source, its script included
    Get { id: String },
    /// Change a source: only the options given change
    Update {
        id: String,
        #[command(flatten)]
        args: SourceArgs,
        /// Take no origin from now on
        #[arg(long, conflicts_with = "origin")]
        no_origin: bool,
        /// Take requests again
        #[arg(long, conflicts_with = "disabled")]
        enabled: bool,
    },
    /// Delete a source (its failed requests expire on their own)
    Rm { id: String },
    /// Its failed inbound requests of the last 7 days, newest first
    #[command(alias = "failures")]
    Errors {
        id: String,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Run the source's script (or --script) on a sample body: the events it would send,
    /// its error or its logs; nothing is ingested
    Try {
        id: String,
        /// The sample body (`-` for stdin), sent to the script as it is
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// A script to try instead of the stored one
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// A request header the script sees, `name: value` (repeatable)
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
    },
}

/// What `add` requires and `update` may change.
#[derive(clap::Args, Debug)]
pub struct SourceArgs {
    #[arg(long)]
    pub name: Option<String>,
    /// The script: JavaScript defining `function handler(request)`
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// How the sender signs: standard-webhooks (a secret is made when none is given),
    /// stripe, hmac-timestamped or hmac-sha256
    #[arg(long = "verify", value_name = "SCHEME")]
    pub scheme: Option<String>,
    /// The sender's signing secret (better from the environment than on the command line)
    #[arg(long, env = "AUTHHOOKS_SOURCE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The signature header (hmac-timestamped, hmac-sha256)
    #[arg(long)]
    pub header: Option<String>,
    /// hex or base64 (hmac-sha256)
    #[arg(long)]
    pub encoding: Option<String>,
    /// What precedes the signature in its header, e.g. `sha256=` (hmac-sha256)
    #[arg(long)]
    pub prefix: Option<String>,
    /// Stamped on every event the script returns (the loop guard)
    #[arg(long)]
    pub origin: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Refuse requests until enabled
    #[arg(long)]
    pub disabled: bool,
}

pub async fn run(command: SourcesCommand, conn: &Conn, json: bool) -> Result<ExitCode, CliError> {
    let api = Api::admin(conn)?;
    match command {
        SourcesCommand::Add(args) => {
            let body = Value::Object(body(&args, true)?);
            let saved: SavedSource = api
                .call(Method::POST, &["v1", "sources"], Some(&body))
                .await?;
            show_saved(&saved, json)?;
        }
        SourcesCommand::List { limit, cursor } => {
            let query = [("limit", limit.map(|n| n.to_string())), ("cursor", cursor)];
            let answer: List<SourceView> = api.get(&["v1", "sources"], &query).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            let header = [
                "id",
                "name",
                "verification",
                "origin",
                "enabled",
                "inbound path",
            ];
            let rows = answer.items.iter().map(|s| {
                vec![
                    s.id.to_string(),
                    s.name.clone(),
                    s.verification.scheme.clone(),
                    field(&s.origin),
                    s.enabled.to_string(),
                    s.inbound_path.clone(),
                ]
            });
            output::line(output::table(&header, rows))?;
            output::next_page(&answer, "authhooks sources list")?;
        }
        SourcesCommand::Get { id } => {
            let source: SourceView = api.get(&["v1", "sources", &id], &[]).await?;
            if json {
                return output::json(&source).map(|()| ExitCode::SUCCESS);
            }
            output::line(details(&source))?;
        }
        SourcesCommand::Update {
            id,
            args,
            no_origin,
            enabled,
        } => {
            let mut patch = body(&args, false)?;
            if no_origin {
                patch.insert("origin".into(), Value::Null);
            }
            if enabled {
                patch.insert("enabled".into(), Value::Bool(true));
            }
            if patch.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: give an option to update",
                ));
            }
            let path = ["v1", "sources", id.as_str()];
            let saved: SavedSource = api
                .call(Method::PATCH, &path, Some(&Value::Object(patch)))
                .await?;
            show_saved(&saved, json)?;
        }
        SourcesCommand::Rm { id } => {
            let _: Value = api
                .call(Method::DELETE, &["v1", "sources", &id], None)
                .await?;
            if !json {
                output::line(format!("deleted {id}"))?;
            }
        }
        SourcesCommand::Errors { id, limit, cursor } => {
            let query = [("limit", limit.map(|n| n.to_string())), ("cursor", cursor)];
            let path = ["v1", "sources", id.as_str(), "failures"];
            let answer: List<SourceFailure> = api.get(&path, &query).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            let header = ["id", "at", "kind", "error", "body bytes"];
            let rows = answer.items.iter().map(|f| {
                vec![
                    f.id.to_string(),
                    field(&f.at),
                    field(&f.kind),
                    f.error.chars().take(ERROR_CHARS).collect(),
                    format!(
                        "{}{}",
                        f.body.len(),
                        if f.body_truncated { "+" } else { "" }
                    ),
                ]
            });
            output::line(output::table(&header, rows))?;
            output::next_page(&answer, &format!("authhooks sources errors {id}"))?;
        }
        SourcesCommand::Try {
            id,
            body,
            script,
            headers,
        } => {
            let bytes = read_input(&body)?;
            let raw = String::from_utf8(bytes)
                .map_err(|_| CliError::usage("the sample body must be UTF-8 text"))?;
            let mut request = json!({"raw": raw});
            if let Some(script) = script {
                request["script"] = Value::String(read_text(&script)?);
            }
            let mut named = Map::new();
            for header in &headers {
                let (name, value) = header.split_once(':').ok_or_else(|| {
                    CliError::usage(format!("--header {header:?} is not `name: value`"))
                })?;
                named.insert(
                    name.trim().to_owned(),
                    Value::String(value.trim().to_owned()),
                );
            }
            request["headers"] = Value::Object(named);
            let path = ["v1", "sources", id.as_str(), "dry-run"];
            let answer: DryRunAnswer = api.call(Method::POST, &path, Some(&request)).await?;
            if json {
                return output::json(&answer).map(|()| ExitCode::SUCCESS);
            }
            for log in &answer.logs {
                output::line(format!("log: {log}"))?;
            }
            if let Some(error) = &answer.error {
                output::line(format!("no events: {error}"))?;
                return Ok(ExitCode::FAILURE);
            }
            if answer.events.is_empty() {
                output::line("no events (the script returned nothing to send)")?;
            }
            for event in &answer.events {
                output::line(serde_json::to_string_pretty(event).unwrap_or_default())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON body the options make; `create` requires name, script and scheme.
fn body(args: &SourceArgs, create: bool) -> Result<Map<String, Value>, CliError> {
    let mut body = Map::new();
    if create {
        for (given, flag) in [
            (args.name.is_some(), "--name"),
            (args.script.is_some(), "--script"),
            (args.scheme.is_some(), "--verify"),
        ] {
            if !given {
                return Err(CliError::usage(format!("{flag} is required")));
            }
        }
    }
    if let Some(name) = &args.name {
        body.insert("name".into(), json!(name));
    }
    if let Some(script) = &args.script {
        body.insert("script".into(), json!(read_text(script)?));
    }
    let verification_flags = [&args.secret, &args.header, &args.encoding, &args.prefix];
    match &args.scheme {
        Some(scheme) => {
            let mut v = Map::new();
            v.insert("scheme".into(), json!(scheme));
            for (key, value) in ["secret", "header", "encoding", "prefix"]
                .into_iter()
                .zip(verification_flags)
            {
                if let Some(value) = value {
                    v.insert(key.into(), json!(value));
                }
            }
            body.insert("verification".into(), Value::Object(v));
        }
        None if verification_flags.iter().any(|v| v.is_some()) => {
            return Err(CliError::usage(
                "--secret, --header, --encoding and --prefix go with --verify SCHEME",
            ))
        }
        None => {}
    }
    if let Some(origin) = &args.origin {
        body.insert("origin".into(), json!(origin));
    }
    if let Some(description) = &args.description {
        body.insert("description".into(), json!(description));
    }
    if args.disabled {
        body.insert("enabled".into(), json!(false));
    }
    Ok(body)
}

fn read_text(path: &std::path::Path) -> Result<String, CliError> {
    String::from_utf8(read_input(path)?)
        .map_err(|_| CliError::usage(format!("{} is not UTF-8 text", path.display())))
}

fn details(source: &SourceView) -> String {
    let v = &source.verification;
    let verification = [
        Some(v.scheme.clone()),
        v.header.clone(),
        v.encoding.map(|e| field(&e)),
        v.prefix.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let mut text = output::details([
        ("id", source.id.to_string()),
        ("name", source.name.clone()),
        ("verification", verification),
        ("origin", field(&source.origin)),
        ("enabled", source.enabled.to_string()),
        ("inbound path", source.inbound_path.clone()),
        ("description", field(&source.description)),
        ("updated", field(&source.updated_at)),
    ]);
    text.push_str("\nscript:\n");
    text.push_str(&source.script);
    text
}

fn show_saved(saved: &SavedSource, json: bool) -> Result<(), CliError> {
    if json {
        return output::json(saved);
    }
    output::line(details(&saved.source))?;
    if let Some(secret) = &saved.secret {
        output::line(format!(
            "\nsigning secret for the sender (shown once; store it now):\n  {secret}"
        ))?;
    }
    Ok(())
}
