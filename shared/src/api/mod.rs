//! The HTTP APIs: ingest (`POST /v1/events`) and admin (docs/architecture.md §3.4), as axum routers that
//! the Lambdas (through lambda_http) and local mode serve alike. Handlers parse the
//! request (the extractors in `extract` reject with problem+json), call a use case in
//! `app`, and answer with a [`wire`](crate::wire) type or a [`Problem`](problem::Problem).

pub mod admin;
mod extract;
pub mod ingest;
pub mod problem;

use std::sync::Arc;

use crate::app::Env;
use crate::ports::{Clock, DeliveryQueue, EndpointStore, Entropy, FailureStore, IdempotencyStore};

/// The ports an API serves from, shared by every request.
#[derive(Clone)]
pub struct Services {
    pub endpoints: Arc<dyn EndpointStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub failures: Arc<dyn FailureStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
}

impl Services {
    pub fn env(&self) -> Env<'_> {
        Env {
            clock: self.clock.as_ref(),
            entropy: self.entropy.as_ref(),
        }
    }
}

/// Whether a request's `content-type` is JSON (`application/json`, any parameters).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}
