//! The tenant portal's API: a link from `POST /v1/portal-links` grants one tenant, and
//! nothing a portal request names — another tenant's endpoint, failure or deliveries, a
//! `tenant_id` in a body, an admin route, a forged or expired token — reaches anything else.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks_tests::json::{each, problem_fields};
use authhooks_tests::lambda::call_admin;
use authhooks_tests::sender::status;

use crate::contract::{System, ADMIN_TOKEN};

const RETRY_NONE: &str = r#"{"initial_delay_ms": 100, "backoff_multiplier": 1,
                              "max_delay_ms": 100, "max_retries": 0}"#;

async fn portal(
    sys: &System,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_admin(&sys.router, token, method, path, body).await
}

async fn link(sys: &System, body: Value) -> (StatusCode, Value) {
    sys.admin("POST", "/v1/portal-links", Some(body)).await
}

#[tokio::test]
async fn a_portal_link_shows_its_tenant_and_nothing_of_another() {
    let sys = System::new(IngestSettings::default());
    let retry: Value = serde_json::from_str(RETRY_NONE).unwrap();
    let mut ids = Vec::new();
    for (tenant, url) in [
        ("acme", "https://acme.example.com/hook"),
        ("globex", "https://globex.example.com/hook"),
    ] {
        sys.sender.script(url, Box::new(|_| status(503)));
        let spec = json!({"url": url, "event_types": ["*"], "ordering": "none",
                          "tenant_id": tenant, "retry": retry});
        ids.push(sys.add_endpoint(spec).await.0);
    }
    let (acme, globex) = (ids[0].clone(), ids[1].clone());
    // An endpoint of a tenant receives that tenant's events.
    for tenant in ["acme", "globex"] {
        let event = json!({"id": format!("evt_{tenant}"), "type": "user.created",
                           "tenant_id": tenant, "data": {}});
        let (code, body) = sys.post_event(&event, None).await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    }
    sys.run_until_idle().await;
    let (_, all) = sys.admin("GET", "/v1/failures", None).await;
    let failure_of = |endpoint: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["endpoint_id"] == endpoint)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (acme_failure, globex_failure) = (failure_of(&acme), failure_of(&globex));

    let (code, given) = link(&sys, json!({"tenant_id": "acme", "ttl_secs": 600})).await;
    assert_eq!(code, StatusCode::CREATED, "{given}");
    let token = given["token"].as_str().unwrap().to_owned();
    assert_eq!(given["path"], format!("/portal/#{token}"));
    assert_eq!(given["tenant_id"], "acme");
    let t = token.as_str();

    let (code, session) = portal(&sys, t, "GET", "/v1/portal/session", None).await;
    assert_eq!(
        (code, &session["tenant_id"]),
        (StatusCode::OK, &json!("acme"))
    );
    let (_, listed) = portal(&sys, t, "GET", "/v1/portal/endpoints", None).await;
    let listed = each(&listed, "id");
    assert_eq!(listed, vec![json!(acme)]);
    let (code, _) = portal(
        &sys,
        t,
        "GET",
        &format!("/v1/portal/endpoints/{acme}"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);

    // Every way of naming globex's endpoint finds nothing, and changes nothing.
    let other = format!("/v1/portal/endpoints/{globex}");
    for (method, path, body) in [
        ("GET", other.clone(), None),
        ("PATCH", other.clone(), Some(json!({"enabled": false}))),
        ("DELETE", other.clone(), None),
        ("POST", format!("{other}/rotate-secret"), None),
        ("POST", format!("{other}/test"), None),
        ("POST", format!("{other}/recover"), None),
        ("GET", format!("{other}/health"), None),
        (
            "GET",
            format!("/v1/portal/failures?endpoint_id={globex}"),
            None,
        ),
        (
            "POST",
            format!("/v1/portal/failures/{globex_failure}/replay"),
            None,
        ),
    ] {
        let (code, problem) = portal(&sys, t, method, &path, body).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
    }
    let (_, stored) = sys
        .admin("GET", &format!("/v1/endpoints/{globex}"), None)
        .await;
    assert_eq!(stored["enabled"], true, "globex's endpoint was changed");
    assert_eq!(
        sys.sender.sent_to("https://globex.example.com/hook").len(),
        1,
        "a test or replay reached globex"
    );

    // Deliveries and failures: the tenant's only, whatever the filter says.
    let (_, log) = portal(&sys, t, "GET", "/v1/portal/deliveries", None).await;
    let endpoints = each(&log, "endpoint_id");
    assert_eq!(endpoints, vec![json!(acme)], "{log}");
    let (_, log) = portal(
        &sys,
        t,
        "GET",
        &format!("/v1/portal/deliveries?endpoint_id={globex}"),
        None,
    )
    .await;
    assert_eq!(log["items"], json!([]));
    let (_, failures) = portal(&sys, t, "GET", "/v1/portal/failures", None).await;
    let failures = each(&failures, "id");
    assert_eq!(failures, vec![json!(acme_failure)]);
    let (code, _) = portal(
        &sys,
        t,
        "POST",
        &format!("/v1/portal/failures/{acme_failure}/replay"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED);

    // New endpoints are the tenant's; no body moves one to another tenant.
    let spec = json!({"url": "https://acme.example.com/two", "event_types": ["user.*"], "tenant_id": "globex"});
    let (code, problem) = portal(&sys, t, "POST", "/v1/portal/endpoints", Some(spec)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let spec = json!({"url": "https://acme.example.com/two", "event_types": ["user.*"]});
    let (code, created) = portal(&sys, t, "POST", "/v1/portal/endpoints", Some(spec)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let (_, stored) = sys
        .admin(
            "GET",
            &format!("/v1/endpoints/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(stored["tenant_id"], "acme");
    let moved = json!({"tenant_id": "globex"});
    let (code, _) = portal(
        &sys,
        t,
        "PATCH",
        &format!("/v1/portal/endpoints/{acme}"),
        Some(moved),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);

    // The token opens the portal and nothing else; the admin token does not open it.
    let (code, _) = portal(&sys, t, "GET", "/v1/endpoints", None).await;
    assert_eq!(
        code,
        StatusCode::UNAUTHORIZED,
        "a portal token on the admin API"
    );
    let (code, _) = portal(&sys, ADMIN_TOKEN, "GET", "/v1/portal/endpoints", None).await;
    assert_eq!(
        code,
        StatusCode::UNAUTHORIZED,
        "the admin token on the portal"
    );
    // Claims rewritten to another tenant, under the same signature.
    let (claims, signature) = t.strip_prefix("ahp_").unwrap().split_once('.').unwrap();
    let mut grant: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    grant["t"] = json!("globex");
    let forged = format!(
        "ahp_{}.{signature}",
        URL_SAFE_NO_PAD.encode(grant.to_string())
    );
    let (code, _) = portal(&sys, &forged, "GET", "/v1/portal/endpoints", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "a forged token");
    sys.clock.advance(std::time::Duration::from_secs(601));
    let (code, problem) = portal(&sys, t, "GET", "/v1/portal/endpoints", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "an expired token");
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_portal_link_needs_a_tenant_and_a_bounded_lifetime() {
    let sys = System::new(IngestSettings::default());
    for (body, field) in [
        (json!({}), "tenant_id"),
        (json!({"tenant_id": 7}), "tenant_id"),
        (json!({"tenant_id": ""}), "tenant_id"),
        (json!({"tenant_id": "acme", "ttl_secs": 5}), "ttl_secs"),
        (json!({"tenant_id": "acme", "ttl_secs": "1h"}), "ttl_secs"),
        (json!({"tenant_id": "acme", "colour": "red"}), "colour"),
    ] {
        let (code, problem) = link(&sys, body.clone()).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(problem_fields(&problem), vec![field], "{body}: {problem}");
    }
    let (code, given) = link(&sys, json!({"tenant_id": "acme"})).await;
    assert_eq!(code, StatusCode::CREATED);
    let expires =
        chrono::DateTime::parse_from_rfc3339(given["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (expires.timestamp() - sys.now().timestamp()),
        3600,
        "an hour by default"
    );
}

/// The portal over the AWS path (DynamoDB and SQS on moto), as the portal function serves
/// it: a tenant sees its endpoint and not another's, and its test delivery is enqueued.
#[tokio::test]
async fn the_portal_over_dynamodb_and_sqs_shows_one_tenant() {
    use std::sync::Arc;

    use authhooks::app::admin::AdminSettings;
    use authhooks::domain::portal::PortalKey;
    use authhooks::ports::{SystemClock, SystemEntropy};
    use authhooks::system::Settings;
    use authhooks_tests::moto::aws_world;
    use authhooks_tests::ScriptedSender;

    let world = aws_world().await;
    let sender = Arc::new(ScriptedSender::new(Arc::new(SystemClock)));
    let system = world
        .backend
        .builder(Arc::new(SystemClock), Arc::new(SystemEntropy), sender)
        .settings(Settings {
            admin: AdminSettings {
                portal_key: Some(PortalKey::new([9; 32])),
                portal_url: Some("https://portal.example.com/".into()),
                ..AdminSettings::default()
            },
            admin_token: Some(ADMIN_TOKEN.into()),
            ..Settings::default()
        })
        .build();
    let router = system.admin_and_console_router();
    let admin = |method: &'static str, path: String, body: Option<Value>| {
        let router = router.clone();
        async move { call_admin(&router, ADMIN_TOKEN, method, &path, body).await }
    };
    let mut ids = Vec::new();
    for tenant in ["acme", "globex"] {
        let spec = json!({"url": format!("https://{tenant}.example.com/hook"),
                          "event_types": ["*"], "tenant_id": tenant});
        let (code, created) = admin("POST", "/v1/endpoints".into(), Some(spec)).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let link = json!({"tenant_id": "acme"});
    let (code, given) = admin("POST", "/v1/portal-links".into(), Some(link)).await;
    assert_eq!(code, StatusCode::CREATED, "{given}");
    let token = given["token"].as_str().unwrap();
    assert_eq!(
        given["url"],
        format!("https://portal.example.com/portal/#{token}")
    );

    let (_, listed) = call_admin(&router, token, "GET", "/v1/portal/endpoints", None).await;
    let listed = each(&listed, "id");
    assert!(
        listed.contains(&json!(ids[0])) && !listed.contains(&json!(ids[1])),
        "{listed:?}"
    );
    let other = format!("/v1/portal/endpoints/{}", ids[1]);
    let (code, _) = call_admin(&router, token, "GET", &other, None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let test = format!("/v1/portal/endpoints/{}/test", ids[0]);
    let (code, sent) = call_admin(&router, token, "POST", &test, None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{sent}");
}
