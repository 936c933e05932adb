//! The admin API (docs/architecture.md §3.4): endpoints here, failures and attempts in
//! `admin_failures`. On AWS the Function URL authenticates with IAM; locally a bearer token
//! guards it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::admin_failures;
use super::problem::Problem;
use super::{is_json, Services};
use crate::app::admin::{self as usecase, AdminError, AdminPorts, AdminSettings};
use crate::domain::endpoint_spec::EndpointView;
use crate::domain::validation::FieldError;
use crate::ports::{Page, PageRequest};

pub struct AdminApi {
    pub services: Services,
    pub settings: AdminSettings,
    /// The bearer token callers must present; `None` when IAM authenticates instead.
    pub token: Option<String>,
}

impl AdminApi {
    pub(super) fn ports(&self) -> AdminPorts<'_> {
        AdminPorts {
            endpoints: self.services.endpoints.as_ref(),
            failures: self.services.failures.as_ref(),
            queue: self.services.queue.as_ref(),
            idempotency: self.services.idempotency.as_ref(),
        }
    }
}

pub fn router(api: Arc<AdminApi>) -> Router {
    Router::new()
        .route("/v1/endpoints", post(create).get(list))
        .route("/v1/endpoints/{id}", get(read).patch(update).delete(remove))
        .route("/v1/endpoints/{id}/rotate-secret", post(rotate))
        .route("/v1/endpoints/{id}/test", post(test))
        .merge(admin_failures::routes())
        .route_layer(middleware::from_fn_with_state(api.clone(), authorize))
        .with_state(api)
}

/// Answers for paths and methods no route serves, as problem+json.
pub fn not_found_fallback(router: Router) -> Router {
    router
        .fallback(|| async { Problem::not_found("no such resource").into_response() })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
            .into_response()
        })
}

async fn authorize(State(api): State<Arc<AdminApi>>, request: Request, next: Next) -> Response {
    let Some(expected) = &api.token else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return next.run(request).await;
    }
    let mut response =
        Problem::unauthorized("a valid `authorization: Bearer <admin token>` header is required")
            .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Maps a use case's error; a dependency's own message is logged, never returned.
pub(super) fn problem(error: AdminError) -> Problem {
    match error {
        AdminError::Invalid(errors) => Problem::invalid(errors),
        AdminError::NotFound(what) => Problem::not_found(format!("{what} does not exist")),
        AdminError::Unavailable(e) => {
            tracing::error!(error = %e, "admin dependency unavailable");
            Problem::unavailable()
        }
    }
}

/// A JSON body, or the problem that explains why it is not one.
pub(super) fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Problem> {
    if !is_json(headers) {
        return Err(Problem::unsupported_media_type());
    }
    serde_json::from_slice(body).map_err(|e| Problem::malformed(format!("invalid JSON: {e}")))
}

/// The extractors' own rejections (a body over axum's 2 MB default limit, a path segment
/// that is not UTF-8 once decoded, an unreadable query) would be plain text; every admin
/// error is problem+json, so handlers take the `Result` and answer through these.
pub(super) fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Problem> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(rejection.body_text()),
        _ => Problem::malformed(rejection.body_text()),
    })
}

pub(super) fn read_path(path: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    path.map(|Path(id)| id)
        .map_err(|rejection| Problem::malformed(rejection.body_text()))
}

pub(super) fn read_query(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, Problem> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| Problem::malformed(rejection.body_text()))
}

/// `limit` and `cursor` from the query string.
pub(super) fn page_request(query: &HashMap<String, String>) -> Result<PageRequest, Problem> {
    let limit = match query.get("limit") {
        None => 50,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=PageRequest::MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(
                    Problem::malformed("invalid query").errors(vec![FieldError::new(
                        "limit",
                        format!("must be an integer from 1 to {}", PageRequest::MAX_LIMIT),
                    )]),
                )
            }
        },
    };
    Ok(PageRequest {
        limit,
        cursor: query.get("cursor").cloned(),
    })
}

#[derive(Serialize)]
pub(super) struct List<T> {
    pub(super) items: Vec<T>,
    pub(super) next_cursor: Option<String>,
}

impl<T> List<T> {
    pub(super) fn of<U>(page: Page<U>, view: impl Fn(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// Shown once: on create and on rotation only.
    secret: String,
}

async fn create(
    State(api): State<Arc<AdminApi>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, Problem> {
    let body = json_body(&headers, &read_body(body)?)?;
    let env = api.services.env();
    let (endpoint, secret) = usecase::create_endpoint(&api.ports(), &api.settings, env, &body)
        .await
        .map_err(problem)?;
    tracing::info!(endpoint_id = %endpoint.id, "endpoint created");
    let created = Created {
        endpoint: endpoint.to_view(),
        secret: secret.expose(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(api): State<Arc<AdminApi>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<impl IntoResponse, Problem> {
    let query = read_query(query)?;
    let page = usecase::list_endpoints(&api.ports(), page_request(&query)?)
        .await
        .map_err(problem)?;
    Ok(Json(List::of(page, |e| e.to_view())))
}

async fn read(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    let endpoint = usecase::get_endpoint(&api.ports(), &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok(Json(endpoint.to_view()))
}

async fn update(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, Problem> {
    let id = read_path(id)?;
    let body = json_body(&headers, &read_body(body)?)?;
    let env = api.services.env();
    let endpoint = usecase::update_endpoint(&api.ports(), &api.settings, env, &id, &body)
        .await
        .map_err(problem)?;
    Ok(Json(endpoint.to_view()))
}

async fn remove(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    usecase::delete_endpoint(&api.ports(), &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    let env = api.services.env();
    let secret = usecase::rotate_secret(&api.ports(), &api.settings, env, &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok(Json(json!({ "secret": secret.expose() })))
}

async fn test(
    State(api): State<Arc<AdminApi>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, Problem> {
    let env = api.services.env();
    let event_id = usecase::send_test(&api.ports(), env, &read_path(id)?)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "event_id": event_id }))))
}
