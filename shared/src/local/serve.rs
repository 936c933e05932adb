//! Local mode's HTTP server: the router behind hyper's HTTP/1 connections with a header-read
//! timeout (which also ends idle keep-alive connections), a whole-request timeout and a cap
//! on open connections, so that idle or trickling clients can neither hold every file
//! descriptor nor lock ingest and admin out (axum::serve has none of these).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

use crate::api::problem::Problem;

/// How long and how many clients may hold the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How long a connection may take to send a request's headers, counted from when it
    /// opens or its previous answer went out: so also how long it may sit idle.
    pub header_read_timeout: Duration,
    /// How long one request may take, its body and the answer included; then a 408.
    pub request_timeout: Duration,
    /// Connections served at once. Further ones wait in the listen backlog, which costs
    /// the process no descriptor, until a served one closes or times out.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    /// Half of the common 1 024 descriptor limit for clients; the rest stays for
    /// deliveries and the AWS clients.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

/// A pause after a failed accept (out of descriptors, most likely), so the loop does not
/// spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in hand
/// finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    // The last layer is the outermost: it sees the timeout layer's answer.
    let app = app
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(timeout_problem));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out is no error of the server's.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    graceful.shutdown().await;
}

/// The timeout layer answers an empty 408; every error answer is problem+json.
async fn timeout_problem(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        return Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            "Request timeout",
        )
        .detail("the request was not received and answered in time")
        .into_response();
    }
    response
}
