//! The events resource: the attempts of every delivery of one event.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::state::AdminApi;
use crate::api::extract::Id;
use crate::api::problem::Problem;
use crate::wire::AttemptList;

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new().route("/v1/events/{id}/attempts", get(attempts))
}

async fn attempts(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
) -> Result<Json<AttemptList>, Problem> {
    let items = api.admin.attempts(&id).await?;
    Ok(Json(AttemptList { items }))
}
