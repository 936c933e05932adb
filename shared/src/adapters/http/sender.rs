//! `ports::Sender` over reqwest: one pooled rustls client built at cold start, no redirects,
//! no proxies, every destination through the SSRF guard, and every outcome mapped to an
//! `AttemptResult` (the domain decides what it means).

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{redirect, Client, Response};
use url::Url;

use super::guard::{check_literal, GuardedResolver, Refused};
use crate::domain::delivery::snippet;
use crate::domain::outcome::{AttemptResult, TransportFailure};
use crate::ports::{OutgoingRequest, SendReport, Sender};

/// Longest error message kept from the HTTP stack.
const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// Allow loopback, private and link-local destinations (local mode only). Metadata,
    /// unspecified and reserved addresses are refused regardless.
    pub allow_private: bool,
    pub connect_timeout: Duration,
    /// How much of a response body is read, at most, to make the failure snippet.
    pub max_response_bytes: usize,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 4096,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

/// Delivers webhooks over HTTP(S). Cheap to share: clone the `Arc` it sits in.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: Client,
    config: SenderConfig,
}

impl HttpSender {
    pub fn new(config: SenderConfig) -> Result<HttpSender, HttpError> {
        let client = Client::builder()
            // A 3xx is an answer the domain classifies; following it would let an endpoint
            // steer deliveries (and their signatures) elsewhere.
            .redirect(redirect::Policy::none())
            // Proxy variables in the environment must not reroute signed requests.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(config.allow_private)))
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|err| HttpError::Client(root_message(&err)))?;
        Ok(HttpSender { client, config })
    }

    async fn exchange(&self, url: Url, request: OutgoingRequest) -> AttemptResult {
        // The connector dials IP literals without consulting the resolver, so they are
        // judged here, before any packet is sent.
        if let Err(refused) = check_literal(&url, self.config.allow_private) {
            return forbidden(&refused);
        }
        let headers = match header_map(&request.headers) {
            Ok(headers) => headers,
            Err(message) => return other(message),
        };
        let deadline = tokio::time::Instant::now() + request.timeout;
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(request.body)
            .timeout(request.timeout)
            .send()
            .await;
        match sent {
            Ok(response) => self.read_response(response, deadline).await,
            Err(err) => AttemptResult::Transport(transport_failure(&err)),
        }
    }

    /// The status, `Retry-After` and the start of the body. The status is the answer: a body
    /// that breaks off or outlasts the deadline only shortens the snippet.
    async fn read_response(
        &self,
        mut response: Response,
        deadline: tokio::time::Instant,
    ) -> AttemptResult {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let cap = self.config.max_response_bytes;
        let mut body = Vec::new();
        let _ = tokio::time::timeout_at(deadline, async {
            while body.len() < cap {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = cap - body.len();
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        })
        .await;
        AttemptResult::Response {
            status,
            retry_after,
            snippet: snippet(&body),
        }
    }
}

#[async_trait]
impl Sender for HttpSender {
    async fn send(&self, request: OutgoingRequest) -> SendReport {
        let started = Instant::now();
        let (host, result) = match Url::parse(&request.url) {
            Ok(url) => (
                url.host_str().unwrap_or_default().to_owned(),
                self.exchange(url, request).await,
            ),
            Err(err) => (String::new(), other(format!("invalid URL: {err}"))),
        };
        let latency = started.elapsed();
        match &result {
            AttemptResult::Response { status, .. } => {
                tracing::debug!(%host, status, latency_ms = latency.as_millis(), "webhook answered");
            }
            AttemptResult::Transport(failure) => {
                tracing::debug!(%host, ?failure, latency_ms = latency.as_millis(), "webhook not answered");
            }
        }
        SendReport { result, latency }
    }
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name `{name}`"))?;
        // The value is not quoted back: it may be a signature or a credential.
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for header `{name}`"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// Maps a request error to why the attempt got no response. The message comes from the
/// innermost cause, so it never carries the URL (with its query string) that reqwest's own
/// message includes.
fn transport_failure(err: &reqwest::Error) -> TransportFailure {
    if let Some(refused) = find_cause::<Refused>(err) {
        return TransportFailure::Forbidden(refused.to_string());
    }
    if err.is_timeout() {
        return TransportFailure::Timeout;
    }
    let message = root_message(err);
    if err.is_connect() {
        return TransportFailure::Connect(message);
    }
    if is_broken_connection(err) {
        return TransportFailure::Reset(message);
    }
    TransportFailure::Other(message)
}

/// A connection that was up and then broke: reset, closed early, or cut mid-message.
fn is_broken_connection(err: &reqwest::Error) -> bool {
    if let Some(io_err) = find_cause::<io::Error>(err) {
        return matches!(
            io_err.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
        );
    }
    find_cause::<hyper::Error>(err).is_some_and(|hyper_err| {
        hyper_err.is_incomplete_message() || hyper_err.is_canceled() || hyper_err.is_closed()
    })
}

fn find_cause<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<E>() {
            return Some(found);
        }
        cause = current.source();
    }
    None
}

fn root_message(err: &(dyn StdError + 'static)) -> String {
    let mut root = err;
    while let Some(next) = root.source() {
        root = next;
    }
    root.to_string().chars().take(MAX_MESSAGE_CHARS).collect()
}

fn forbidden(refused: &Refused) -> AttemptResult {
    AttemptResult::Transport(TransportFailure::Forbidden(refused.to_string()))
}

fn other(message: String) -> AttemptResult {
    AttemptResult::Transport(TransportFailure::Other(message))
}
