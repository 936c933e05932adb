//! The console's server side in local mode (issue #16): the page and its assets come from
//! the binary with a strict content security policy; signing in with the admin token sets
//! an HttpOnly, SameSite=Strict session cookie; with that cookie the admin API reads, and
//! changes only with the session's CSRF token; signing out ends it. The bearer token still
//! works beside it.

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use authhooks_tests::local::LocalServer;

const ADMIN_TOKEN: &str = "console-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(
    local: &LocalServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let client = Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, format!("{}{path}", local.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Signs in: the cookie (`name=value`) and the CSRF token.
async fn sign_in(local: &LocalServer) -> (String, String) {
    let answer = send(
        local,
        Method::POST,
        "/console/session",
        &[],
        Some(json!({"token": ADMIN_TOKEN})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let set = answer
        .headers
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{flag} missing: {set}");
    }
    assert!(
        !set.contains(ADMIN_TOKEN),
        "the admin token is the cookie: {set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    (cookie, answer.json()["csrf"].as_str().unwrap().to_owned())
}

async fn endpoint_count(local: &LocalServer) -> usize {
    let (status, list) = local.admin("GET", "/v1/endpoints", None).await;
    assert_eq!(status, 200);
    list["items"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_come_from_the_binary_under_a_strict_policy() {
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    for (path, kind) in [
        ("/console/", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/dom.js", "text/javascript"),
        ("/console/endpoints.js", "text/javascript"),
        ("/console/deliveries.js", "text/javascript"),
        ("/console/app.css", "text/css"),
        ("/portal/", "text/html"),
        ("/portal/dom.js", "text/javascript"),
        ("/portal/portal.js", "text/javascript"),
        ("/portal/app.css", "text/css"),
    ] {
        let answer = send(&local, Method::GET, path, &[], None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert!(
            header("content-type").starts_with(kind),
            "{path}: {}",
            header("content-type")
        );
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert_eq!(header("x-content-type-options"), "nosniff");
        // Nothing is loaded from elsewhere: it works offline.
        assert!(!answer.body.contains("https://cdn"), "{path}");
        assert!(!answer.body.contains(ADMIN_TOKEN));
    }
    let index = send(&local, Method::GET, "/console/", &[], None).await.body;
    assert!(
        index.contains(r#"<script src="/console/app.js" defer></script>"#),
        "{index}"
    );
    // Without a session the page's first call is refused, and it shows the sign-in form.
    let answer = send(&local, Method::GET, "/console/session", &[], None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    local.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_a_form_post_signs_nobody_in() {
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let wrong = send(
        &local,
        Method::POST,
        "/console/session",
        &[],
        Some(json!({"token": "guess"})),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert_eq!(wrong.json()["status"], 401);
    assert!(wrong.headers.get(SET_COOKIE).is_none());
    // A cross-site form can only post form encodings: refused before the token is read.
    let client = Client::builder().no_proxy().build().unwrap();
    let form = client
        .post(format!("{}/console/session", local.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(form.headers().get(SET_COOKIE).is_none());
    local.running.shutdown().await;
}

/// A request the page makes: with the session cookie, and the CSRF token if given.
async fn as_page(
    local: &LocalServer,
    method: Method,
    path: &str,
    (cookie, csrf): (&str, Option<&str>),
    body: Option<Value>,
) -> Answer {
    let mut headers = vec![(COOKIE.as_str(), cookie)];
    headers.extend(csrf.map(|csrf| ("x-csrf-token", csrf)));
    send(local, method, path, &headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_reads_and_changes_only_with_its_csrf_token_until_signed_out() {
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let (cookie, csrf) = sign_in(&local).await;
    let (reader, writer) = (
        (cookie.as_str(), None),
        (cookie.as_str(), Some(csrf.as_str())),
    );
    let spec = json!({"url": "http://127.0.0.1:9/in", "event_types": ["*"]});

    let read = as_page(&local, Method::GET, "/v1/endpoints", reader, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let again = as_page(&local, Method::GET, "/console/session", reader, None).await;
    assert_eq!(again.json()["csrf"], csrf.as_str());

    for session in [reader, (cookie.as_str(), Some("forged"))] {
        let refused = as_page(
            &local,
            Method::POST,
            "/v1/endpoints",
            session,
            Some(spec.clone()),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let kind = refused.json()["type"].as_str().map(|t| t.ends_with("csrf"));
        assert_eq!(kind, Some(true), "{}", refused.body);
    }
    assert_eq!(endpoint_count(&local).await, 0, "a refused change was made");

    let made = as_page(&local, Method::POST, "/v1/endpoints", writer, Some(spec)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    // The bearer token works as before, beside the console.
    assert_eq!(endpoint_count(&local).await, 1);

    let no_csrf = as_page(&local, Method::DELETE, "/console/session", reader, None).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let out = as_page(&local, Method::DELETE, "/console/session", writer, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = as_page(&local, Method::GET, "/v1/endpoints", reader, None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    local.running.shutdown().await;
}
