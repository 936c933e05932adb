//! `authhooks dev`: the whole pipeline in one process on loopback, with the URLs, secrets
//! and a copy-paste example printed on start, and a drain on Ctrl-C.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use authhooks::domain::priority::PriorityTypes;
use authhooks::domain::signature::Secret;
use authhooks::local::{LocalConfig, LocalMode, ServerLimits};
use authhooks::ports::{Entropy, SystemEntropy};
use authhooks::telemetry::otlp::Otlp;
use base64::Engine;

use crate::error::CliError;

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Port for ingest and admin on 127.0.0.1.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Bearer token the admin API requires (generated when absent).
    #[arg(long, env = "AUTHHOOKS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The `whsec_` secret producers sign events with (generated when absent).
    #[arg(long, env = "AUTHHOOKS_INGEST_SECRET", hide_env_values = true)]
    pub ingest_secret: Option<String>,
    /// Use this SQS/DynamoDB API (moto, or AWS) instead of memory.
    #[arg(long, value_name = "URL")]
    pub aws_endpoint: Option<String>,
    /// Concurrent delivery workers.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Connections served at once; more wait until one closes.
    #[arg(long, default_value_t = ServerLimits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a connection may take to send a request's headers, or sit idle between requests.
    #[arg(long, default_value_t = ServerLimits::default().header_read_timeout.as_secs())]
    pub header_timeout_secs: u64,
    /// Seconds one request may take, body and answer included (then 408).
    #[arg(long, default_value_t = ServerLimits::default().request_timeout.as_secs())]
    pub request_timeout_secs: u64,
    /// Event types whose deliveries take the priority lane, comma-separated (empty: none)
    #[arg(long, env = "AUTHHOOKS_PRIORITY_TYPES", value_name = "TYPES",
          default_value_t = PriorityTypes::default(), value_parser = parse_priority_types)]
    pub priority_types: PriorityTypes,
}

pub async fn run(args: DevArgs) -> Result<(), CliError> {
    let otlp = init_logging();
    let entropy = SystemEntropy;
    let ingest_secret = match &args.ingest_secret {
        Some(raw) => Secret::parse(raw.trim())
            .map_err(|e| CliError::usage(format!("invalid --ingest-secret: {e}")))?,
        None => Secret::generate(entropy.bytes32()),
    };
    let admin_token = match args.admin_token.as_deref().map(str::trim) {
        Some("") => return Err(CliError::usage("--admin-token must not be empty")),
        Some(token) => token.to_owned(),
        None => format!(
            "ah_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(entropy.bytes32())
        ),
    };
    let config = LocalConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        admin_token: admin_token.clone(),
        ingest_secret: ingest_secret.clone(),
        aws_endpoint: args.aws_endpoint.clone(),
        priority_types: args.priority_types.clone(),
        workers: args.workers,
        limits: ServerLimits {
            header_read_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            max_connections: args.max_connections.max(1),
        },
    };
    let running = LocalMode::start(config).await?;
    print_banner(&running, &args, &admin_token, &ingest_secret);

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::io("cannot listen for Ctrl-C", e))?;
    eprintln!("\nstopping: finishing deliveries in flight…");
    let left = running.shutdown().await;
    // After the drain, so the last deliveries' spans go too.
    if let Some(otlp) = otlp {
        otlp.shutdown().await;
    }
    if left > 0 {
        eprintln!("stopped; {left} queued deliveries (retries not yet due) were in memory and are dropped");
    } else {
        eprintln!("stopped");
    }
    Ok(())
}

fn print_banner(running: &LocalMode, args: &DevArgs, admin_token: &str, secret: &Secret) {
    let url = format!("http://{}", running.addr);
    let backend = match &args.aws_endpoint {
        Some(endpoint) => format!("SQS/DynamoDB at {endpoint}"),
        None => "memory (state is lost on exit)".to_owned(),
    };
    println!("authhooks dev is running on {url} — {backend}");
    println!();
    println!("  ingest  POST {url}/v1/events   (Standard Webhooks signature, ingest secret)");
    println!("  admin        {url}/v1/endpoints, /v1/failures   (Bearer admin token)");
    println!("  console      {url}/console/   (sign in with the admin token)");
    println!();
    println!("In other terminals, set:");
    println!("  export AUTHHOOKS_URL={url}");
    println!("  export AUTHHOOKS_ADMIN_TOKEN={admin_token}");
    println!("  export AUTHHOOKS_INGEST_SECRET={}", secret.expose());
    println!();
    println!("then receive and send:");
    println!("  authhooks listen");
    println!(
        "  authhooks send user.created --data '{{\"user\":{{\"id\":\"u_1\",\"email\":\"a@example.com\"}}}}'"
    );
    println!();
    println!("Local mode delivers to loopback and private addresses (deployments refuse them).");
    println!("Ctrl-C stops after the deliveries in flight.");
}

/// Logs to stderr (`RUST_LOG`, default `warn`), and spans to an OTLP collector when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) names one.
fn init_logging() -> Option<Otlp> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let otlp = match Otlp::from_env("authhooks-dev") {
        Ok(otlp) => otlp,
        Err(e) => {
            eprintln!("warning: traces not exported: {e}");
            None
        }
    };
    // Over moto or AWS, the SDK's trace dumps would print endpoint secrets and payloads.
    let not_wire_dump = || {
        tracing_subscriber::filter::filter_fn(|metadata| {
            !authhooks::adapters::is_sdk_wire_dump(metadata)
        })
    };
    let _ = match &otlp {
        // Spans need `info` whatever RUST_LOG says, so the log filter is the fmt layer's own.
        Some(otlp) => tracing_subscriber::registry()
            .with(otlp.layer())
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .with(not_wire_dump())
            .try_init(),
        // Without export, a global filter: nothing below it is even built.
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .finish()
            .with(not_wire_dump())
            .try_init(),
    };
    otlp
}

fn parse_priority_types(list: &str) -> Result<PriorityTypes, String> {
    PriorityTypes::parse(list)
}
