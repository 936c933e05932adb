//! The admin API's failures and attempts: list, replay one, replay many, and the attempts
//! of an event's deliveries.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::admin::{
    json_body, page_request, problem, read_body, read_path, read_query, AdminApi, List,
};
use super::problem::Problem;
use crate::app::admin as usecase;
use crate::domain::delivery::FailureRecord;
use crate::domain::ids::{EndpointId, EventId};
use crate::domain::outcome::FailureReason;
use crate::domain::validation::FieldError;
use crate::ports::FailureFilter;

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new()
        .route("/v1/failures", get(list))
        .route("/v1/failures/replay", post(replay_many))
        .route("/v1/failures/{id}/replay", post(replay_one))
        .route("/v1/events/{id}/attempts", get(attempts))
}

/// A failure as the API lists it: the record without the job it carries for replay.
#[derive(Serialize)]
struct FailureView {
    id: String,
    event_id: EventId,
    endpoint_id: EndpointId,
    event_type: String,
    reason: FailureReason,
    attempts: u32,
    last_status: Option<u16>,
    last_error: Option<String>,
    first_attempt_at: Option<DateTime<Utc>>,
    failed_at: DateTime<Utc>,
    replayed_at: Option<DateTime<Utc>>,
}

impl From<FailureRecord> for FailureView {
    fn from(r: FailureRecord) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            event_type: r.event_type,
            reason: r.reason,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            first_attempt_at: r.first_attempt_at,
            failed_at: r.failed_at,
            replayed_at: r.replayed_at,
        }
    }
}

/// The filter from query parameters or a bulk-replay body, every bad field reported.
fn filter(fields: &HashMap<String, String>) -> Result<FailureFilter, Problem> {
    let mut errors = Vec::new();
    let endpoint_id = fields.get("endpoint_id").and_then(|raw| {
        EndpointId::parse(raw)
            .map_err(|e| errors.push(FieldError::new("endpoint_id", e)))
            .ok()
    });
    let mut time = |name: &str| {
        fields.get(name).and_then(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| errors.push(FieldError::new(name, "must be an RFC 3339 time")))
                .ok()
        })
    };
    let failed_after = time("failed_after");
    let failed_before = time("failed_before");
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    Ok(FailureFilter {
        endpoint_id,
        failed_after,
        failed_before,
    })
}

async fn list(
    State(api): State<Arc<AdminApi>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<impl IntoResponse, Problem> {
    let query = read_query(query)?;
    let filter = filter(&query)?;
    let page = usecase::list_failures(&api.ports(), &filter, page_request(&query)?)
        .await
        .map_err(problem)?;
    Ok(Json(List::of(page, FailureView::from)))
}

async fn replay_one(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    let env = api.services.env();
    let id = usecase::replay_failure(&api.ports(), env, &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "replayed": [id] }))))
}

async fn replay_many(
    State(api): State<Arc<AdminApi>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, Problem> {
    let body = read_body(body)?;
    // An empty body replays everything not replayed yet.
    let fields = if body.is_empty() {
        HashMap::new()
    } else {
        string_fields(json_body(&headers, &body)?)?
    };
    let filter = filter(&fields)?;
    let env = api.services.env();
    let replayed = usecase::replay_failures(&api.ports(), env, &filter)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "replayed": replayed }))))
}

/// The bulk-replay body: an object of string fields, each one known.
fn string_fields(body: Value) -> Result<HashMap<String, String>, Problem> {
    let Value::Object(map) = body else {
        return Err(Problem::invalid(vec![FieldError::new(
            "",
            "must be a JSON object",
        )]));
    };
    let mut fields = HashMap::new();
    let mut errors = Vec::new();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("endpoint_id" | "failed_after" | "failed_before", Value::String(s)) => {
                fields.insert(key, s);
            }
            ("endpoint_id" | "failed_after" | "failed_before", Value::Null) => {}
            ("endpoint_id" | "failed_after" | "failed_before", _) => {
                errors.push(FieldError::new(key, "must be a string"))
            }
            _ => errors.push(FieldError::new(key, "unknown field")),
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(Problem::invalid(errors))
    }
}

async fn attempts(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    let env = api.services.env();
    let items = usecase::attempts(&api.ports(), env, &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok(Json(json!({ "items": items })))
}
