//! `POST /v1/portal-links {"tenant_id", "ttl_secs"}`: a signed, expiring link to one
//! tenant's portal. The token rides in the link's fragment, which browsers never send to a
//! server or put in a `Referer`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::state::AdminApi;
use crate::api::extract::JsonBody;
use crate::api::problem::Problem;
use crate::domain::validation::FieldError;

/// A link lives an hour unless asked otherwise.
const DEFAULT_TTL_SECS: i64 = 3600;

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new().route("/v1/portal-links", post(create))
}

async fn create(
    State(api): State<Arc<AdminApi>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, Problem> {
    let mut errors = Vec::new();
    if let Some(fields) = body.as_object() {
        for name in fields
            .keys()
            .filter(|k| !["tenant_id", "ttl_secs"].contains(&k.as_str()))
        {
            errors.push(FieldError::new(name, "unknown field"));
        }
    } else {
        errors.push(FieldError::new("", "must be a JSON object"));
    }
    let tenant = match body.get("tenant_id") {
        Some(Value::String(t)) => t.clone(),
        _ => {
            errors.push(FieldError::new("tenant_id", "must be a string"));
            String::new()
        }
    };
    let ttl = match body.get("ttl_secs") {
        None | Some(Value::Null) => DEFAULT_TTL_SECS,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            errors.push(FieldError::new("ttl_secs", "must be an integer"));
            DEFAULT_TTL_SECS
        }),
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
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
