//! The failures resource: list, replay one, and replay many by a filter.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::state::AdminApi;
use crate::api::extract::{Id, OptionalJsonBody, PageQuery, QueryFields};
use crate::api::problem::Problem;
use crate::domain::ids::EndpointId;
use crate::domain::validation::FieldError;
use crate::ports::FailureFilter;
use crate::wire::{FailureItem, List, Replayed};

/// The fields a filter is made of, in the query string or a bulk-replay body.
const FILTER_FIELDS: [&str; 3] = ["endpoint_id", "failed_after", "failed_before"];

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new()
        .route("/v1/failures", get(list))
        .route("/v1/failures/replay", post(replay_many))
        .route("/v1/failures/{id}/replay", post(replay_one))
}

/// The filter of `GET /v1/failures`, from its query parameters.
struct FilterQuery(FailureFilter);

impl<S: Send + Sync> FromRequestParts<S> for FilterQuery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let QueryFields(query) = QueryFields::from_request_parts(parts, state).await?;
        filter(&query).map(Self)
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

/// The filter is checked before the page, so a bad filter is reported first.
async fn list(
    State(api): State<Arc<AdminApi>>,
    FilterQuery(filter): FilterQuery,
    PageQuery(page): PageQuery,
) -> Result<Json<List<FailureItem>>, Problem> {
    let page = api.admin.list_failures(&filter, page).await?;
    Ok(Json(List::of(page, FailureItem::from)))
}

async fn replay_one(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
) -> Result<impl IntoResponse, Problem> {
    let id = api.admin.replay_failure(&id).await?;
    let replayed = Replayed { replayed: vec![id] };
    Ok((StatusCode::ACCEPTED, Json(replayed)))
}

async fn replay_many(
    State(api): State<Arc<AdminApi>>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<impl IntoResponse, Problem> {
    // An empty body replays everything not replayed yet.
    let fields = match body {
        None => HashMap::new(),
        Some(body) => string_fields(body)?,
    };
    let filter = filter(&fields)?;
    let replayed = api.admin.replay_failures(&filter).await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { replayed })))
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
        match value {
            _ if !FILTER_FIELDS.contains(&key.as_str()) => {
                errors.push(FieldError::new(key, "unknown field"))
            }
            Value::String(s) => {
                fields.insert(key, s);
            }
            Value::Null => {}
            _ => errors.push(FieldError::new(key, "must be a string")),
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(Problem::invalid(errors))
    }
}
