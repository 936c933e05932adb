//! The tenant portal (docs/architecture.md §3.11): a page at `/portal/` and its API under
//! `/v1/portal/`, where a portal token (`Authorization: Bearer ahp_…`, from the link's
//! fragment) stands for one tenant. Every route goes through the tenant-scoped use cases
//! (`app::portal`), so another tenant's endpoints, deliveries and failures are "not found"
//! however the request is changed. The token is sent as a header, never as a cookie, so no
//! other site can make the browser use it (no CSRF).

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::admin::deliveries::SearchQuery;
use super::console::asset;
use super::extract::{Id, JsonBody, PageQuery, QueryFields};
use super::problem::Problem;
use crate::app::Admin;
use crate::domain::endpoint::Endpoint;
use crate::domain::portal::{verify, Grant, PortalKey};
use crate::wire::{
    CreatedEndpoint, EndpointHealth, EndpointView, FailureItem, List, Recovered, Replayed,
    RotatedSecret, TestSent,
};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/portal.js");

pub struct PortalApi {
    pub admin: Arc<Admin>,
    pub key: PortalKey,
}

type Api = State<Arc<PortalApi>>;

pub fn router(api: Arc<PortalApi>) -> Router {
    Router::new()
        .route(
            "/portal",
            get(|| async { axum::response::Redirect::permanent("/portal/") }),
        )
        .route(
            "/portal/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/portal/dom.js",
            get(|| async { asset(super::console::DOM_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/portal/portal.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/portal/app.css",
            get(|| async { asset(super::console::STYLE, "text/css; charset=utf-8") }),
        )
        .route("/v1/portal/session", get(session))
        .route("/v1/portal/endpoints", get(list).post(create))
        .route(
            "/v1/portal/endpoints/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/v1/portal/endpoints/{id}/rotate-secret", post(rotate))
        .route("/v1/portal/endpoints/{id}/test", post(test))
        .route("/v1/portal/endpoints/{id}/recover", post(recover))
        .route("/v1/portal/endpoints/{id}/health", get(health))
        .route("/v1/portal/deliveries", get(deliveries))
        .route("/v1/portal/failures", get(failures))
        .route("/v1/portal/failures/{id}/replay", post(replay))
        .with_state(api)
}

/// What a request's portal token grants: one tenant, until a time.
pub struct Tenant(Grant);

impl FromRequestParts<Arc<PortalApi>> for Tenant {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<PortalApi>) -> Result<Self, Problem> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        match verify(token, &api.key, api.admin.clock.now()) {
            Ok(grant) => Ok(Self(grant)),
            Err(e) => Err(Problem::unauthorized(format!(
                "{e}: ask for a new portal link"
            ))),
        }
    }
}

/// An endpoint of the request's tenant, named by the path's `{id}`: any other is "not
/// found". The one place the portal's endpoint routes check ownership.
pub struct OwnEndpoint(Endpoint);

impl FromRequestParts<Arc<PortalApi>> for OwnEndpoint {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<PortalApi>) -> Result<Self, Problem> {
        let Tenant(grant) = Tenant::from_request_parts(parts, api).await?;
        let Id(id) = Id::from_request_parts(parts, api).await?;
        Ok(Self(
            api.admin.tenant_endpoint(&grant.tenant_id, &id).await?,
        ))
    }
}

/// Which tenant the page is for, and until when.
async fn session(Tenant(grant): Tenant) -> Json<serde_json::Value> {
    Json(json!({"tenant_id": grant.tenant_id, "expires_at": grant.expires_at()}))
}

async fn list(State(api): Api, Tenant(g): Tenant) -> Result<Json<List<EndpointView>>, Problem> {
    let endpoints = api.admin.tenant_endpoints(&g.tenant_id).await?;
    Ok(Json(List {
        items: endpoints.iter().map(|e| e.to_view()).collect(),
        next_cursor: None,
    }))
}

async fn create(
    State(api): Api,
    Tenant(g): Tenant,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, Problem> {
    let (endpoint, secret) = api
        .admin
        .create_tenant_endpoint(&g.tenant_id, &body)
        .await?;
    let created = CreatedEndpoint {
        endpoint: endpoint.to_view(),
        secret,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

async fn read(OwnEndpoint(endpoint): OwnEndpoint) -> Json<EndpointView> {
    Json(endpoint.to_view())
}

async fn update(
    State(api): Api,
    Tenant(g): Tenant,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<EndpointView>, Problem> {
    let endpoint = api
        .admin
        .update_tenant_endpoint(&g.tenant_id, &id, &body)
        .await?;
    Ok(Json(endpoint.to_view()))
}

async fn remove(State(api): Api, OwnEndpoint(e): OwnEndpoint) -> Result<StatusCode, Problem> {
    api.admin.delete_endpoint(e.id.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(api): Api,
    OwnEndpoint(e): OwnEndpoint,
) -> Result<Json<RotatedSecret>, Problem> {
    let secret = api.admin.rotate_secret(e.id.as_str()).await?;
    Ok(Json(RotatedSecret { secret }))
}

async fn test(State(api): Api, OwnEndpoint(e): OwnEndpoint) -> Result<impl IntoResponse, Problem> {
    let event_id = api.admin.send_test(e.id.as_str()).await?;
    Ok((StatusCode::ACCEPTED, Json(TestSent { event_id })))
}

async fn recover(State(api): Api, OwnEndpoint(e): OwnEndpoint) -> Result<Json<Recovered>, Problem> {
    Ok(Json(api.admin.recover_endpoint(e.id.as_str()).await?))
}

async fn health(
    State(api): Api,
    OwnEndpoint(e): OwnEndpoint,
) -> Result<Json<EndpointHealth>, Problem> {
    Ok(Json(api.admin.endpoint_health(e.id.as_str()).await?))
}

async fn deliveries(
    State(api): Api,
    Tenant(g): Tenant,
    SearchQuery(query): SearchQuery,
    PageQuery(page): PageQuery,
) -> Result<Json<List<crate::domain::delivery_log::LogEntry>>, Problem> {
    let page = api
        .admin
        .search_tenant_deliveries(&g.tenant_id, query, page)
        .await?;
    Ok(Json(List::of(page, |entry| entry)))
}

async fn failures(
    State(api): Api,
    Tenant(g): Tenant,
    QueryFields(fields): QueryFields,
    PageQuery(page): PageQuery,
) -> Result<Json<List<FailureItem>>, Problem> {
    let endpoint = fields.get("endpoint_id").map(String::as_str);
    let page = api
        .admin
        .list_tenant_failures(&g.tenant_id, endpoint, page)
        .await?;
    Ok(Json(List::of(page, FailureItem::from)))
}

async fn replay(
    State(api): Api,
    Tenant(g): Tenant,
    Id(id): Id,
) -> Result<impl IntoResponse, Problem> {
    let id = api.admin.replay_tenant_failure(&g.tenant_id, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { replayed: vec![id] })))
}
