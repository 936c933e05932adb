//! `POST /v1/events`: content type, size and signature checked before the body is parsed,
//! then the ingest use case; every error is problem+json (docs/architecture.md §3.1).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tracing::Instrument;

use super::inbound::InboundApi;
use super::problem::Problem;
use super::{accepted_status, is_json};
use crate::app::ingest::{Accepted, Ingest};
use crate::app::Sources;
use crate::domain::signature::SignedHeaders;
use crate::domain::trace::{TraceParent, HEADER_TRACEPARENT, HEADER_TRACESTATE};
use crate::wire::IngestAnswer;

pub struct IngestApi {
    pub ingest: Arc<Ingest>,
    pub sources: Arc<Sources>,
}

/// `POST /v1/events`, and the sources' `POST /v1/inbound/{source_id}`.
pub fn router(api: Arc<IngestApi>) -> Router {
    let inbound = super::inbound::router(Arc::new(InboundApi {
        sources: api.sources.clone(),
        max_body_bytes: api.ingest.settings.limits.max_body_bytes,
    }));
    Router::new()
        .route("/v1/events", post(post_events))
        .with_state(api)
        .merge(inbound)
}

async fn post_events(
    State(api): State<Arc<IngestApi>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let trace = trace_parent(&headers);
    let span = tracing::info_span!("ingest", trace_id = tracing::field::Empty);
    if let Some(trace) = &trace {
        crate::telemetry::follow(&span, trace);
    }
    match accept(&api, &headers, body, trace.as_ref())
        .instrument(span)
        .await
    {
        Ok(events) => (accepted_status(&events), Json(IngestAnswer { events })).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn accept(
    api: &IngestApi,
    headers: &HeaderMap,
    body: Body,
    trace: Option<&TraceParent>,
) -> Result<Vec<Accepted>, Problem> {
    if !is_json(headers) {
        return Err(Problem::unsupported_media_type());
    }
    let limit = api.ingest.settings.limits.max_body_bytes;
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| Problem::too_large(format!("the body exceeds {limit} bytes")))?;

    let signed = match &api.ingest.settings.secret {
        Some(_) => Some(signed_headers(headers)?),
        None => None,
    };
    let request = match &signed {
        Some(signed) => api.ingest.authenticate(signed, &bytes)?,
        None => None,
    };

    let accepted = api.ingest.ingest(&bytes, request, trace).await?;
    tracing::info!(
        events = accepted.len(),
        deliveries = accepted.iter().map(|a| a.deliveries).sum::<usize>(),
        duplicates = accepted.iter().filter(|a| a.duplicate).count(),
        "ingested"
    );
    Ok(accepted)
}

/// The producer's trace context. An invalid or repeated `traceparent` is ignored, never
/// refused: W3C Trace Context says to start over, and an event is worth more than its trace.
fn trace_parent(headers: &HeaderMap) -> Option<TraceParent> {
    let single = |name| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().ok(),
            _ => None,
        }
    };
    // The spec lets tracestate arrive split over several header lines: one list.
    let states: Vec<&str> = headers
        .get_all(HEADER_TRACESTATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let state = (!states.is_empty()).then(|| states.join(","));
    TraceParent::parse(single(HEADER_TRACEPARENT)?, state.as_deref())
}

fn signed_headers(headers: &HeaderMap) -> Result<SignedHeaders<'_>, Problem> {
    SignedHeaders::from_lookup(|name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized(format!("missing or unreadable {name} header")))
    })
}
