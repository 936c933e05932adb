//! The source resource (§3.16): create, list, read, update, delete, its failed inbound
//! requests, and a dry run of a script over a sample request.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::state::AdminApi;
use crate::api::extract::{Id, JsonBody, PageQuery};
use crate::api::problem::Problem;
use crate::app::sources::{Saved, SourcesError};
use crate::domain::validation::FieldError;
use crate::wire::{DryRunAnswer, DryRunRequest, List, SavedSource, SourceFailure, SourceView};

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new()
        .route("/v1/sources", post(create).get(list))
        .route("/v1/sources/{id}", get(read).patch(update).delete(remove))
        .route("/v1/sources/{id}/failures", get(failures))
        .route("/v1/sources/{id}/dry-run", post(dry_run))
}

async fn create(
    State(api): State<Arc<AdminApi>>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, Problem> {
    let saved = api.sources.create(&body).await?;
    tracing::info!(source_id = %saved.source.id, "source created");
    Ok((StatusCode::CREATED, Json(wire(saved))))
}

async fn list(
    State(api): State<Arc<AdminApi>>,
    PageQuery(page): PageQuery,
) -> Result<Json<List<SourceView>>, Problem> {
    let page = api.sources.list(page).await?;
    Ok(Json(List::of(page, |s| s)))
}

async fn read(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<Json<SourceView>, Problem> {
    Ok(Json(api.sources.get(&id).await?))
}

async fn update(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<SavedSource>, Problem> {
    Ok(Json(wire(api.sources.update(&id, &body).await?)))
}

async fn remove(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<StatusCode, Problem> {
    api.sources.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn failures(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
    PageQuery(page): PageQuery,
) -> Result<Json<List<SourceFailure>>, Problem> {
    let page = api.sources.failures(&id, page).await?;
    Ok(Json(List::of(page, |f| f)))
}

async fn dry_run(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<DryRunAnswer>, Problem> {
    let request: DryRunRequest = serde_json::from_value(body)
        .map_err(|e| Problem::invalid(vec![FieldError::new("", e.to_string())]))?;
    let bytes = match (&request.body, &request.raw) {
        (Some(_), Some(_)) => {
            return Err(Problem::invalid(vec![FieldError::new(
                "raw",
                "give the body as `body` (JSON) or `raw` (text), not both",
            )]))
        }
        (Some(json), None) => json.to_string().into_bytes(),
        (None, Some(raw)) => raw.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    let run = api
        .sources
        .dry_run(&id, request.script.as_deref(), &headers, &bytes)
        .await?;
    Ok(Json(DryRunAnswer {
        events: run.events,
        error: run.error,
        logs: run.logs,
    }))
}

fn wire(saved: Saved) -> SavedSource {
    SavedSource {
        source: saved.source,
        secret: saved.secret,
    }
}

/// A use case's error; a dependency's own message is logged, never returned.
impl From<SourcesError> for Problem {
    fn from(error: SourcesError) -> Self {
        match error {
            SourcesError::Invalid(errors) => Self::invalid(errors),
            SourcesError::NotFound(id) => Self::not_found(format!("source {id} does not exist")),
            SourcesError::Busy(reason) => {
                tracing::warn!(reason, "script sandbox busy");
                Self::unavailable()
            }
            SourcesError::Unavailable(crate::ports::PortError::InvalidCursor(reason)) => {
                Self::invalid_cursor(&reason)
            }
            SourcesError::Unavailable(e) => {
                tracing::error!(error = %e, "sources dependency unavailable");
                Self::unavailable()
            }
        }
    }
}
