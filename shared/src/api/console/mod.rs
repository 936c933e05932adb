//! The console (docs/architecture.md §3.11): a page at `/console/`, its script and style
//! embedded in the binary (no CDN: it works offline), and its sign-in. The page calls the
//! admin API with the session cookie this module sets; `admin::authorize` accepts it.

mod session;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::extract::JsonBody;
use super::problem::Problem;
pub use session::{cookie_value, Proof, Sessions, COOKIE, CSRF_HEADER};
use session::{set_cookie, SESSION_TTL_SECS};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
/// The helpers the console's and the portal's scripts share (loaded first by both pages).
pub(crate) const DOM_SCRIPT: &str = include_str!("assets/dom.js");
/// The Endpoints page (loaded before `app.js`, whose helpers it calls once wired).
const ENDPOINTS_SCRIPT: &str = include_str!("assets/endpoints.js");
/// The Overview and Deliveries pages (loaded after `app.js`, whose helpers they use).
const DELIVERIES_SCRIPT: &str = include_str!("assets/deliveries.js");
/// The Sources page (§3.16).
const SOURCES_SCRIPT: &str = include_str!("assets/sources.js");
pub(crate) const STYLE: &str = include_str!("assets/app.css");

/// Only this origin's script, style and requests; no framing, no inline code.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub struct ConsoleApi {
    pub sessions: Arc<Sessions>,
    /// The admin token a sign-in must present.
    pub token: String,
}

pub fn router(api: Arc<ConsoleApi>) -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/console/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/dom.js",
            get(|| async { asset(DOM_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/endpoints.js",
            get(|| async { asset(ENDPOINTS_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/deliveries.js",
            get(|| async { asset(DELIVERIES_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/sources.js",
            get(|| async { asset(SOURCES_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route(
            "/console/session",
            get(current).post(sign_in).delete(sign_out),
        )
        .with_state(api)
}

pub(crate) fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The session the request's cookie names, if live, and its CSRF token.
fn session(api: &ConsoleApi, headers: &HeaderMap) -> Option<(String, String)> {
    let id = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(cookie_value)?;
    api.sessions.csrf(id).map(|csrf| (id.to_owned(), csrf))
}

fn signed_out() -> Problem {
    Problem::unauthorized("sign in to the console with the admin token")
}

/// `GET /console/session`: the signed-in session's CSRF token (the page keeps it in memory).
async fn current(State(api): State<Arc<ConsoleApi>>, headers: HeaderMap) -> Response {
    match session(&api, &headers) {
        Some((_, csrf)) => no_store(Json(json!({ "csrf": csrf })).into_response()),
        None => signed_out().into_response(),
    }
}

/// `POST /console/session` with `{"token": "<admin token>"}`: a session cookie and the
/// session's CSRF token. JSON only, so a cross-site form cannot post it.
async fn sign_in(State(api): State<Arc<ConsoleApi>>, JsonBody(body): JsonBody) -> Response {
    let presented = body.get("token").and_then(|t| t.as_str()).unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(api.token.as_bytes())) {
        return signed_out().into_response();
    }
    let (id, csrf) = api.sessions.open();
    let mut response = no_store(Json(json!({ "csrf": csrf })).into_response());
    if let Ok(cookie) = HeaderValue::from_str(&set_cookie(&id, SESSION_TTL_SECS)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `DELETE /console/session`: signs out (the session's CSRF token required).
async fn sign_out(State(api): State<Arc<ConsoleApi>>, headers: HeaderMap) -> Response {
    let Some((id, _)) = session(&api, &headers) else {
        return signed_out().into_response();
    };
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if api.sessions.prove(Some(&id), csrf) != Proof::SessionWithCsrf {
        return csrf_missing().into_response();
    }
    api.sessions.close(&id);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&set_cookie("", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the console's session makes of a request to the admin API.
#[derive(Debug)]
pub enum Admission {
    /// A live session: a read, or a change with the session's CSRF token.
    Admitted,
    /// A live session, but a change without its CSRF token: refused with this problem.
    Refused(Problem),
    /// No live session: the request must authenticate some other way, or not at all.
    NoSession,
}

/// Reads need the session cookie; changes need its CSRF token too.
pub fn admit(sessions: &Sessions, headers: &HeaderMap, method: &Method) -> Admission {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(cookie_value);
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let reads = matches!(*method, Method::GET | Method::HEAD);
    match sessions.prove(cookie, csrf) {
        Proof::SessionWithCsrf => Admission::Admitted,
        Proof::SessionOnly if reads => Admission::Admitted,
        Proof::SessionOnly => Admission::Refused(csrf_missing()),
        Proof::None => Admission::NoSession,
    }
}

/// A state-changing request made with the session cookie but without its CSRF token.
pub fn csrf_missing() -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "csrf", "CSRF token missing or wrong").detail(format!(
        "a change made with the console's session needs its `{CSRF_HEADER}` header"
    ))
}
