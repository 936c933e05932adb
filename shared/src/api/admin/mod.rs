//! The admin API (docs/architecture.md §3.4), one module per capability: endpoints,
//! failures, events and sources. On AWS the Function URL authenticates with IAM; locally a bearer
//! token guards it, or the console's session cookie with its CSRF token for changes.

pub(crate) mod deliveries;
mod endpoints;
mod events;
mod failures;
mod portal_links;
mod sources;
mod state;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use subtle::ConstantTimeEq;

use super::console::{admit, Admission};
use super::problem::Problem;
pub use state::AdminApi;

pub fn router(api: Arc<AdminApi>) -> Router {
    Router::new()
        .merge(endpoints::routes())
        .merge(deliveries::routes())
        .merge(portal_links::routes())
        .merge(failures::routes())
        .merge(events::routes())
        .merge(sources::routes())
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
    if let Some(sessions) = &api.sessions {
        match admit(sessions, request.headers(), request.method()) {
            Admission::Admitted => return next.run(request).await,
            Admission::Refused(problem) => return problem.into_response(),
            Admission::NoSession => {}
        }
    }
    let mut response =
        Problem::unauthorized("a valid `authorization: Bearer <admin token>` header is required")
            .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
