//! `POST /v1/portal-links {"tenant_id", "ttl_secs"}`: a signed, expiring link to one
//! tenant's portal. The token rides in the link's fragment, which browsers never send to a
//! server or put in a `Referer`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::state::AdminApi;
use crate::api::extract::JsonBody;
use crate::api::problem::Problem;
use crate::domain::portal::link_request;

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new().route("/v1/portal-links", post(create))
}

async fn create(
    State(api): State<Arc<AdminApi>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, Problem> {
    let (tenant, ttl) = link_request(&body).map_err(Problem::invalid)?;
    let link = api.admin.portal_link(&tenant, ttl).await?;
    let path = format!("/portal/#{}", link.token);
    // On AWS the portal function's URL; in local mode the portal is beside the admin API,
    // at the address this request was made to.
    let url = match &api.admin.settings.portal_url {
        Some(base) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| format!("http://{host}{path}")),
    };
    let answer = json!({
        "tenant_id": link.grant.tenant_id,
        "expires_at": link.grant.expires_at(),
        "token": link.token,
        "path": path,
        "url": url,
    });
    Ok((StatusCode::CREATED, Json(answer)))
}
