//! `POST /v1/inbound/{source_id}` (§3.16): another system's own webhook, verified as its
//! sender signs it and mapped into events by the source's script. Answers: 202 with the
//! events accepted (200 when none is new); 200 with `failure` when the script or its
//! events failed — recorded, and not the sender's to retry; 401 for a bad signature and
//! 404 for no enabled source, with nothing run or recorded; 413 for a body over the
//! ingest limit; 503 when it could not be taken now (the sender retries).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::accepted_status;
use super::extract::Id;
use super::problem::Problem;
use crate::app::sources::{Inbound, InboundError};
use crate::app::Sources;
use crate::wire::{InboundAnswer, InboundFailure};

/// What the inbound route serves from: the sources, and ingest's body limit.
pub(super) struct InboundApi {
    pub(super) sources: Arc<Sources>,
    pub(super) max_body_bytes: usize,
}

pub(super) fn router(api: Arc<InboundApi>) -> Router {
    Router::new()
        .route("/v1/inbound/{id}", post(post_inbound))
        .with_state(api)
}

async fn post_inbound(
    State(api): State<Arc<InboundApi>>,
    Id(id): Id,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&api, &id, &headers, body).await {
        Ok(Inbound::Accepted(events)) => {
            let status = accepted_status(&events);
            tracing::info!(source = %id, events = events.len(), "inbound accepted");
            let answer = InboundAnswer {
                events,
                failure: None,
            };
            (status, Json(answer)).into_response()
        }
        Ok(Inbound::Failed(failure)) => {
            let answer = InboundAnswer {
                events: Vec::new(),
                failure: Some(InboundFailure {
                    id: failure.id.to_string(),
                    kind: failure.kind,
                    error: failure.error,
                }),
            };
            (StatusCode::OK, Json(answer)).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}

async fn receive(
    api: &InboundApi,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Inbound, Problem> {
    let limit = api.max_body_bytes;
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| Problem::too_large(format!("the body exceeds {limit} bytes")))?;
    Ok(api
        .sources
        .receive(id, &lower_case(headers), &bytes)
        .await?)
}

/// Every header with a lower-case name (`HeaderMap` keeps them so), a repeated one once with
/// its values joined by `, `. A value that is not visible ASCII is left out: its bytes could
/// only be guessed at as text.
fn lower_case(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !values.is_empty() {
            out.push((name.as_str().to_owned(), values.join(", ")));
        }
    }
    out
}

impl From<InboundError> for Problem {
    fn from(error: InboundError) -> Self {
        match error {
            InboundError::NotFound(id) => Self::not_found(format!("no enabled source {id}")),
            InboundError::Unauthorized(e) => Self::unauthorized(e.to_string()),
            InboundError::Busy(reason) => {
                tracing::warn!(reason, "inbound request not taken: script sandbox busy");
                Self::unavailable()
            }
            InboundError::Unavailable(e) => {
                tracing::error!(error = %e, "inbound dependency unavailable");
                Self::unavailable()
            }
        }
    }
}
