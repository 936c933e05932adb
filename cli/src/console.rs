//! `authhooks console --admin-url URL`: the console for a deployed stack. A server on
//! 127.0.0.1 serves the console's page and forwards its admin API calls to the stack's
//! IAM-authenticated Function URL, signed with SigV4 from the user's AWS credentials, so
//! the browser never holds AWS credentials. The page signs in with a token this command
//! prints, and gets the same session cookie and CSRF protection as `authhooks dev`'s.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use authhooks::api::console::{self, admit, Admission, ConsoleApi, Sessions};
use authhooks::api::problem::Problem;
use authhooks::ports::{Entropy, SystemClock, SystemEntropy};
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use base64::Engine;
use reqwest::{Client, Url};

use crate::error::CliError;
use crate::output;
use crate::sigv4;

/// A cold admin function answers within this.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// The admin API of the deployed stack (its Function URL, IAM-authenticated)
    #[arg(long, env = "AUTHHOOKS_ADMIN_URL", value_name = "URL")]
    pub admin_url: String,
    /// The region to sign for; read from a Function URL when not given
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Port on 127.0.0.1 (0: any free one)
    #[arg(long, default_value_t = 8788)]
    pub port: u16,
}

struct Proxy {
    sessions: Arc<Sessions>,
    http: Client,
    base: Url,
    region: String,
    credentials: SharedCredentialsProvider,
    /// The `Host` values this server answers to: another name pointing at 127.0.0.1 (a
    /// DNS-rebinding page) is refused.
    hosts: [String; 2],
}

pub async fn run(args: ConsoleArgs) -> Result<(), CliError> {
    let base = Url::parse(&args.admin_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            CliError::usage(format!(
                "--admin-url {}: must be an http:// or https:// URL",
                args.admin_url
            ))
        })?;
    let region = args
        .region
        .filter(|r| !r.trim().is_empty())
        .or_else(|| sigv4::function_url_region(&base))
        .ok_or_else(|| {
            CliError::usage(
                "--region is needed: the admin URL is not a Function URL that names one",
            )
        })?;
    let credentials = sigv4::provider().await?;
    // Fails now, with the chain's reason, rather than at the page's first request.
    sigv4::identity_from(&credentials).await?;
    let http = Client::builder()
        .timeout(UPSTREAM_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::usage(format!("cannot set up the HTTP client: {e}")))?;

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
            .await
            .map_err(|e| CliError::io(format!("cannot listen on 127.0.0.1:{}", args.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    let token = format!(
        "ahc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SystemEntropy.bytes32())
    );
    let sessions = Arc::new(Sessions::new(
        Arc::new(SystemClock),
        Arc::new(SystemEntropy),
    ));
    let proxy = Arc::new(Proxy {
        sessions: sessions.clone(),
        http,
        base,
        region,
        credentials,
        hosts: [addr.to_string(), format!("localhost:{}", addr.port())],
    });
    let app = console::router(Arc::new(ConsoleApi {
        sessions,
        token: token.clone(),
    }))
    .merge(
        Router::new()
            .route("/v1/{*rest}", any(forward))
            .with_state(proxy.clone()),
    )
    .layer(middleware::from_fn_with_state(proxy.clone(), own_host));

    // Through `output::line`: a closed stdout (a pipe whose reader went away) must not stop
    // the server.
    output::line(format!(
        "authhooks console: http://{addr}/console/ — for {} (signed for {} with your AWS credentials)\n  sign in with: {token}\nCtrl-C stops it.",
        proxy.base.as_str().trim_end_matches('/'),
        proxy.region
    ))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| CliError::io("the console server stopped", e))
}

async fn own_host(State(proxy): State<Arc<Proxy>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if proxy.hosts.iter().any(|own| own == host) {
        return next.run(request).await;
    }
    Problem::new(StatusCode::FORBIDDEN, "host", "Unknown host")
        .detail("open the console at the address `authhooks console` printed")
        .into_response()
}

/// An admin API call of the page: admitted by its session, then sent on signed.
async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match admit(&proxy.sessions, &headers, &method) {
        Admission::Admitted => {}
        Admission::Refused(problem) => return problem.into_response(),
        Admission::NoSession => {
            return Problem::unauthorized("sign in to the console first").into_response()
        }
    }
    match send(&proxy, method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(reason) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream",
            "The admin API did not answer",
        )
        .detail(reason)
        .into_response(),
    }
}

async fn send(
    proxy: &Proxy,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, String> {
    let mut url = proxy.base.clone();
    let path = format!("{}{}", proxy.base.path().trim_end_matches('/'), uri.path());
    url.set_path(&path);
    url.set_query(uri.query());
    let mut request = proxy.http.request(method, url);
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let mut request = request
        .body(body)
        .build()
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let identity = sigv4::identity_from(&proxy.credentials)
        .await
        .map_err(|e| e.to_string())?;
    sigv4::sign_request(&mut request, &identity, &proxy.region, SystemTime::now())
        .map_err(|e| e.to_string())?;
    let answer = proxy
        .http
        .execute(request)
        .await
        .map_err(|e| format!("{} unreachable: {e}", proxy.base))?;
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer
        .bytes()
        .await
        .map_err(|e| format!("the answer broke off: {e}"))?;
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
