//! The HTTP APIs: ingest (`POST /v1/events`, `POST /v1/inbound/{source_id}`) and admin (docs/architecture.md §3.4), as axum routers that
//! the Lambdas (through lambda_http) and local mode serve alike. Handlers parse the
//! request (the extractors in `extract` reject with problem+json), call a use case in
//! `app`, and answer with a [`wire`](crate::wire) type or a [`Problem`](problem::Problem).

pub mod admin;
pub mod console;
mod extract;
mod inbound;
pub mod ingest;
pub mod portal;
pub mod problem;

/// Whether a request's `content-type` is JSON (`application/json`, any parameters).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// What accepting events answers: `202`, or `200` when nothing new was accepted (every
/// event a duplicate, or none at all).
fn accepted_status(events: &[crate::wire::Accepted]) -> axum::http::StatusCode {
    if events.iter().all(|e| e.duplicate) {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::ACCEPTED
    }
}
