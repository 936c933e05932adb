//! `authhooks portal link TENANT`: a signed, expiring link to one tenant's portal, for the
//! tenant's own people (their endpoints, deliveries and failures, nothing else).

use std::process::ExitCode;

use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{Api, Conn};
use crate::error::CliError;
use crate::output;

#[derive(clap::Subcommand, Debug)]
pub enum PortalCommand {
    /// A link to TENANT's portal, valid for --ttl-secs (default an hour)
    Link {
        tenant: String,
        /// How long the link works, in seconds (60 to 2 592 000)
        #[arg(long)]
        ttl_secs: Option<i64>,
    },
}

pub async fn run(command: PortalCommand, conn: &Conn, json: bool) -> Result<ExitCode, CliError> {
    let api = Api::admin(conn)?;
    let PortalCommand::Link { tenant, ttl_secs } = command;
    let mut body = json!({ "tenant_id": tenant });
    if let Some(ttl) = ttl_secs {
        body["ttl_secs"] = json!(ttl);
    }
    let answer: Value = api
        .call(Method::POST, &["v1", "portal-links"], Some(&body))
        .await?;
    if json {
        return output::json(&answer).map(|()| ExitCode::SUCCESS);
    }
    // The API knows the host it was called at; the path is what the portal needs.
    let path = answer["path"].as_str().unwrap_or_default();
    let url = api
        .url(&[])
        .join(path.trim_start_matches('/'))
        .map_err(|e| CliError::Protocol {
            url: conn.url.clone(),
            reason: format!("a portal path that is not a path ({e})"),
        })?;
    output::line(format!(
        "{url}\n(for tenant {}, until {}; anyone holding it sees that tenant's webhooks)",
        answer["tenant_id"].as_str().unwrap_or_default(),
        answer["expires_at"].as_str().unwrap_or_default()
    ))?;
    Ok(ExitCode::SUCCESS)
}
