//! The endpoint resource: create, list, read, update, delete, rotate its secret, send it a
//! test event, and recover it (send its waiting deliveries now).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::state::AdminApi;
use crate::api::extract::{Id, JsonBody, PageQuery};
use crate::api::problem::Problem;
use crate::wire::{
    CreatedEndpoint, EndpointHealth, EndpointView, List, Recovered, RotatedSecret, TestSent,
};

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new()
        .route("/v1/endpoints", post(create).get(list))
        .route("/v1/endpoints/{id}", get(read).patch(update).delete(remove))
        .route("/v1/endpoints/{id}/rotate-secret", post(rotate))
        .route("/v1/endpoints/{id}/test", post(test))
        .route("/v1/endpoints/{id}/recover", post(recover))
        .route("/v1/endpoints/{id}/health", get(health))
        .route("/v1/endpoint-health", get(health_page))
}

async fn create(
    State(api): State<Arc<AdminApi>>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, Problem> {
    let (endpoint, secret) = api.admin.create_endpoint(&body).await?;
    tracing::info!(endpoint_id = %endpoint.id, "endpoint created");
    let created = CreatedEndpoint {
        endpoint: endpoint.to_view(),
        secret,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(api): State<Arc<AdminApi>>,
    PageQuery(page): PageQuery,
) -> Result<Json<List<EndpointView>>, Problem> {
    let page = api.admin.list_endpoints(page).await?;
    Ok(Json(List::of(page, |e| e.to_view())))
}

async fn read(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<Json<EndpointView>, Problem> {
    let endpoint = api.admin.get_endpoint(&id).await?;
    Ok(Json(endpoint.to_view()))
}

async fn update(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<EndpointView>, Problem> {
    let endpoint = api.admin.update_endpoint(&id, &body).await?;
    Ok(Json(endpoint.to_view()))
}

async fn remove(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<StatusCode, Problem> {
    api.admin.delete_endpoint(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
) -> Result<Json<RotatedSecret>, Problem> {
    let secret = api.admin.rotate_secret(&id).await?;
    Ok(Json(RotatedSecret { secret }))
}

async fn test(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<impl IntoResponse, Problem> {
    let event_id = api.admin.send_test(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestSent { event_id })))
}

async fn recover(State(api): State<Arc<AdminApi>>, Id(id): Id) -> Result<Json<Recovered>, Problem> {
    let recovered = api.admin.recover_endpoint(&id).await?;
    tracing::info!(
        endpoint_id = %recovered.id,
        brought_forward = recovered.brought_forward,
        "endpoint recovered by hand; its circuit is closed"
    );
    Ok(Json(recovered))
}

async fn health(
    State(api): State<Arc<AdminApi>>,
    Id(id): Id,
) -> Result<Json<EndpointHealth>, Problem> {
    Ok(Json(api.admin.endpoint_health(&id).await?))
}

/// The health of a page of endpoints, paged as `GET /v1/endpoints` is.
async fn health_page(
    State(api): State<Arc<AdminApi>>,
    PageQuery(page): PageQuery,
) -> Result<Json<List<EndpointHealth>>, Problem> {
    let page = api.admin.endpoints_health(page).await?;
    Ok(Json(List::of(page, |health| health)))
}
