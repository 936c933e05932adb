//! `authhooks listen`: a receiver on 127.0.0.1 that subscribes itself to the running server,
//! verifies and prints every delivery, and removes its subscription on Ctrl-C.

use std::future::Future;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::Arc;

use authhooks::domain::signature::{
    Keys, PublicKey, Scheme, SchemeError, Secret, Signing, DEFAULT_TOLERANCE_SECS,
    HEADER_WEBHOOK_ATTEMPT, HEADER_WEBHOOK_ID,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Router;
use chrono::{SecondsFormat, Utc};
use reqwest::{Method, Url};
use serde::de::IgnoredAny;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::client::{Api, Conn, Token};
use crate::error::CliError;
use crate::output;

#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Event types to subscribe to, comma-separated
    #[arg(long, default_value = "*", value_delimiter = ',', value_name = "TYPES")]
    pub events: Vec<String>,
    /// Pass each valid delivery on to this URL and answer with its status
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<Url>,
    /// Subscribe with this signing scheme (and verify under it): to try a compatibility
    /// scheme against an existing receiver through --forward-to
    #[arg(long, value_name = "SCHEME", default_value = "standard-webhooks",
          value_parser = super::endpoint_args::scheme_parser())]
    pub signing: Scheme,
    /// With a compatibility scheme: the header the signature travels in
    #[arg(long, value_name = "NAME")]
    pub signature_header: Option<String>,
    /// With a compatibility scheme: the header the timestamp travels in
    #[arg(long, value_name = "NAME")]
    pub timestamp_header: Option<String>,
    #[command(flatten)]
    pub token: Token,
}

struct Receiver {
    signing: Signing,
    secret: Secret,
    json: bool,
    forward: Option<(reqwest::Client, Url)>,
}

pub async fn run(args: ListenArgs, conn: &Conn, json: bool) -> Result<ExitCode, CliError> {
    let conn = &args.token.clone().over(conn);
    let api = Api::admin(conn)?;
    // Before subscribing, so an early Ctrl-C still reaches the cleanup below.
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .map_err(|e| CliError::io(format!("cannot listen on 127.0.0.1:{}", args.port), e))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    let own_url = format!("http://{address}/");
    let forward = match args.forward_to {
        Some(url) => Some((forward_client()?, url)),
        None => None,
    };

    let mut signing = json!({ "scheme": args.signing.name() });
    if let Some(name) = &args.signature_header {
        signing["signature_header"] = json!(name);
    }
    if let Some(name) = &args.timestamp_header {
        signing["timestamp_header"] = json!(name);
    }
    let body = json!({
        "url": own_url,
        "event_types": args.events,
        "description": format!("authhooks listen on {address}"),
        "signing": signing,
    });
    let authhooks::wire::CreatedEndpoint { endpoint, secret } = api
        .call(Method::POST, &["v1", "endpoints"], Some(&body))
        .await?;
    let id = endpoint.id.to_string();
    if json {
        output::line(json!({ "endpoint_id": id, "url": own_url, "event_types": args.events }))?;
    } else {
        output::line(format!(
            "endpoint {id} listening on {own_url} for {}\n(Ctrl-C removes the endpoint and exits)",
            args.events.join(",")
        ))?;
    }

    let receiver = Arc::new(Receiver {
        signing: endpoint.signing.clone(),
        secret,
        json,
        forward,
    });
    let app = Router::new().fallback(receive).with_state(receiver);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let removed = remove(&api, &id).await;
    served.map_err(|e| CliError::io("the receiver stopped", e))?;
    removed?;
    if !json {
        output::line(format!("removed endpoint {id}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(api: &Api, id: &str) -> Result<(), CliError> {
    match api
        .call::<IgnoredAny>(Method::DELETE, &["v1", "endpoints", id], None)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::Context {
            context: format!("endpoint {id} was not removed"),
            source: Box::new(e),
        }),
    }
}

/// 200 for a valid delivery (or the forward target's status), 401 for an invalid one, so
/// the server's retry and circuit logic can be watched from the receiving side.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let keys = Keys {
        secrets: std::slice::from_ref(&receiver.secret),
        public_keys: &[PublicKey::of(&receiver.secret)],
    };
    let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verdict = receiver
        .signing
        .verify(keys, lookup, &body, Utc::now(), DEFAULT_TOLERANCE_SECS);
    let attempt = text(HEADER_WEBHOOK_ATTEMPT);
    let id = text(HEADER_WEBHOOK_ID);
    // Nothing useful to do if the terminal is gone; the answer to the server matters more.
    let _ = output::line(report(receiver.json, id, attempt, &body, &verdict));
    if verdict.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    match &receiver.forward {
        Some((client, url)) => forward(client, url, &headers, body).await,
        None => StatusCode::OK,
    }
}

fn report(
    json: bool,
    webhook_id: &str,
    attempt: &str,
    body: &[u8],
    verdict: &Result<(), SchemeError>,
) -> String {
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    // A batching endpoint's POST (§3.15) lists its events instead of being one.
    let batch = parsed
        .as_ref()
        .and_then(|v| v.get("events"))
        .and_then(Value::as_array);
    let event_type = match batch {
        Some(events) => format!("batch of {}", events.len()),
        None => parsed
            .as_ref()
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned(),
    };
    let attempt_number: Option<u32> = attempt.parse().ok();
    if json {
        let body = parsed.unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into()));
        let mut line = json!({
            "at": at, "webhook_id": webhook_id, "type": event_type,
            "attempt": attempt_number, "valid": verdict.is_ok(), "body": body,
        });
        if let (Err(e), Some(map)) = (verdict, line.as_object_mut()) {
            map.insert("reason".into(), json!(e.to_string()));
        }
        return line.to_string();
    }
    let status = match verdict {
        Ok(()) => "valid".to_owned(),
        Err(e) => format!("INVALID ({e})"),
    };
    let shown_body = match &parsed {
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    format!("{at}  {webhook_id}  {event_type}  attempt {attempt}  {status}\n{shown_body}\n")
}

async fn forward(
    client: &reqwest::Client,
    url: &Url,
    headers: &HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut passed = headers.clone();
    // Hop-by-hop and framing headers describe this connection, not the delivery.
    for name in [
        header::HOST,
        header::CONTENT_LENGTH,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
    ] {
        passed.remove(name);
    }
    match client
        .post(url.clone())
        .headers(passed)
        .body(body)
        .send()
        .await
    {
        Ok(response) => response.status(),
        Err(e) => {
            output::warn(format!("forwarding to {url} failed: {e}"));
            StatusCode::BAD_GATEWAY
        }
    }
}

fn forward_client() -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::usage(format!("--forward-to: cannot set up the HTTP client: {e}")))
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed on the call, not on
/// the first poll, so a signal arriving while the endpoint is being created is not lost.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl Future<Output = ()>, CliError> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind| signal(kind).map_err(|e| CliError::io("cannot handle signals", e));
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl Future<Output = ()>, CliError> {
    Ok(async {
        // If the handler cannot be installed, waiting forever is what Ctrl-C would end anyway.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
