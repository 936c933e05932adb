//! Inbound sources end to end (§3.16): another system's own webhook, verified as its sender
//! signs it, mapped by the source's script into events that reach subscribed endpoints as
//! `POST /v1/events` would send them — loop guard, idempotency and all; failures answered
//! as received and kept for the console; bad signatures and unknown sources refused with
//! nothing run. In memory, and over DynamoDB and SQS on moto with Stripe's own library as
//! the sender.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};

use authhooks::api::admin::not_found_fallback;
use authhooks::domain::signature::{sign_headers, Secret};
use authhooks::ports::Clock;
use authhooks_tests::lambda::{call, call_admin, AwsPipeline, ADMIN_TOKEN};
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::oracle::verify_with_python;
use authhooks_tests::receiver::Receiver;
use authhooks_tests::sender::status;
use authhooks_tests::stripe_oracle::stripe_signature;
use authhooks_tests::World;

const BETTER_AUTH: &str = "http://auth.test/api/webhooks";
const WAREHOUSE: &str = "http://warehouse.test/hook";

/// A mapping of Payload's `afterChange` hook body (`{collection, operation, doc,
/// previousDoc}`) to `user.updated`, naming what changed.
const PAYLOAD_SCRIPT: &str = r#"
function handler(request) {
  const { collection, operation, doc, previousDoc } = request.body;
  if (collection !== "users" || operation !== "update") return null;
  const changed = ["name", "email", "image"].filter((k) => doc[k] !== (previousDoc || {})[k]);
  if (changed.length === 0) return null;
  return {
    type: "user.updated",
    subject: doc.betterAuthId,
    id: `payload_${doc.id}_${doc.updatedAt}`,
    data: { user: { id: doc.betterAuthId, name: doc.name, email: doc.email }, changed },
  };
}
"#;

fn after_change(name: &str) -> Value {
    json!({"collection": "users", "operation": "update",
        "doc": {"id": "64f0", "betterAuthId": "u_1", "name": name, "email": "ada@example.com",
                "updatedAt": "2026-11-22T10:00:00.000Z"},
        "previousDoc": {"id": "64f0", "betterAuthId": "u_1", "name": "Ada", "email": "ada@example.com"}})
}

fn admin(world: &World) -> axum::Router {
    not_found_fallback(world.system.admin_router())
}

fn ingest(world: &World) -> axum::Router {
    not_found_fallback(world.system.ingest_router())
}

/// A POST to `/v1/inbound/{id}` with `headers`.
fn inbound(id: &str, headers: &[(String, String)], body: &[u8]) -> Request<Body> {
    headers
        .iter()
        .fold(
            Request::post(format!("/v1/inbound/{id}")).header("content-type", "application/json"),
            |r, (name, value)| r.header(name.as_str(), value.as_str()),
        )
        .body(Body::from(body.to_vec()))
        .unwrap()
}

/// Standard Webhooks headers as a sender signing with `secret` at `at` makes them.
fn signed(secret: &Secret, msg_id: &str, at: i64, body: &[u8]) -> Vec<(String, String)> {
    sign_headers([secret], msg_id, at, body)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

async fn create_source(router: &axum::Router, token: &str, spec: Value) -> (String, Value) {
    let (status, body) = call_admin(router, token, "POST", "/v1/sources", Some(spec)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (body["id"].as_str().unwrap().to_owned(), body)
}

/// Better Auth (whose endpoint carries `origin: payload`, the loop guard) and a warehouse
/// on `user.*`; a Payload source with a generated Standard Webhooks secret.
async fn world() -> (World, String, Secret) {
    let world = World::new();
    for (url, origin) in [(BETTER_AUTH, json!("payload")), (WAREHOUSE, Value::Null)] {
        world
            .add_endpoint(json!({"url": url, "event_types": ["user.*"], "origin": origin}))
            .await;
        world.sender.script(url, Box::new(|_| status(200)));
    }
    let (id, created) = create_source(
        &admin(&world),
        "",
        json!({"name": "Payload users", "origin": "payload", "script": PAYLOAD_SCRIPT,
               "verification": {"scheme": "standard-webhooks"}}),
    )
    .await;
    let secret = Secret::parse(created["secret"].as_str().unwrap()).unwrap();
    (world, id, secret)
}

#[tokio::test]
async fn a_payload_after_change_reaches_a_subscriber_as_user_updated_and_not_the_auth_server() {
    let (world, id, secret) = world().await;
    let body = serde_json::to_vec(&after_change("Ada Lovelace")).unwrap();
    let now = world.clock.now().timestamp();
    let request = inbound(&id, &signed(&secret, "msg_1", now, &body), &body);
    let (status, answer) = call(&ingest(&world), request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(
        answer["events"][0]["id"],
        "payload_64f0_2026-11-22T10:00:00.000Z"
    );
    assert_eq!(answer["events"][0]["deliveries"], 1);
    world.run_until_idle(Duration::from_secs(60)).await;

    let got = world.sender.sent_to(WAREHOUSE);
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(event["type"], "user.updated");
    assert_eq!(event["origin"], "payload");
    assert_eq!(event["subject"], "u_1");
    assert_eq!(event["data"]["user"]["name"], "Ada Lovelace");
    assert_eq!(event["data"]["changed"], json!(["name"]));
    // The auth server made none of this change: its endpoint's origin keeps it away.
    assert!(world.sender.sent_to(BETTER_AUTH).is_empty());

    // Payload's retry of the same request (a new signature, the same body) is a duplicate.
    let again = inbound(&id, &signed(&secret, "msg_2", now + 5, &body), &body);
    let (status, answer) = call(&ingest(&world), again).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["events"][0]["duplicate"], true);
    // A save that changed nothing the script maps is acknowledged with no event.
    let unchanged = serde_json::to_vec(&after_change("Ada")).unwrap();
    let request = inbound(&id, &signed(&secret, "msg_3", now, &unchanged), &unchanged);
    let (status, answer) = call(&ingest(&world), request).await;
    assert_eq!(
        (status, answer["events"].clone()),
        (StatusCode::OK, json!([]))
    );
    world.run_until_idle(Duration::from_secs(60)).await;
    assert_eq!(world.sender.sent_to(WAREHOUSE).len(), 1);
}

#[tokio::test]
async fn a_bad_signature_an_unknown_or_disabled_source_run_nothing_and_record_nothing() {
    let (world, id, secret) = world().await;
    let body = serde_json::to_vec(&after_change("Mallory")).unwrap();
    let now = world.clock.now().timestamp();
    let other = Secret::generate([5; 32]);
    let tampered = serde_json::to_vec(&after_change("Eve")).unwrap();
    let cases = [
        (
            inbound(&id, &signed(&other, "m", now, &body), &body),
            StatusCode::UNAUTHORIZED,
        ),
        (
            inbound(&id, &signed(&secret, "m", now, &body), &tampered),
            StatusCode::UNAUTHORIZED,
        ),
        (
            inbound(&id, &signed(&secret, "m", now - 600, &body), &body),
            StatusCode::UNAUTHORIZED,
        ),
        (inbound(&id, &[], &body), StatusCode::UNAUTHORIZED),
        (
            inbound("src_nope", &signed(&secret, "m", now, &body), &body),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (request, expected) in cases {
        let (status, answer) = call(&ingest(&world), request).await;
        assert_eq!(status, expected, "{answer}");
        assert!(answer["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:authhooks:problem:"));
    }
    let (status, _) = call_admin(
        &admin(&world),
        "",
        "PATCH",
        &format!("/v1/sources/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &ingest(&world),
        inbound(&id, &signed(&secret, "m", now, &body), &body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    world.run_until_idle(Duration::from_secs(60)).await;
    assert!(world.sender.sent().is_empty());
    let (_, failures) = call_admin(
        &admin(&world),
        "",
        "GET",
        &format!("/v1/sources/{id}/failures"),
        None,
    )
    .await;
    assert_eq!(failures["items"], json!([]));
}

#[tokio::test]
async fn script_failures_are_answered_as_received_kept_with_the_body_and_nothing_is_sent() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": WAREHOUSE, "event_types": ["*"]}))
        .await;
    world.sender.script(WAREHOUSE, Box::new(|_| status(200)));
    let router = admin(&world);
    let cases = [
        (
            "function handler(r) { console.log('kind', r.body.kind); throw new Error('no user in ' + r.body.kind); }",
            "script",
            "no user in order",
        ),
        (
            "function handler() { for (;;) {} }",
            "script",
            "past its 100 ms limit",
        ),
        (
            "function handler() { const a = []; for (;;) a.push(new Array(1e5).fill(0)); }",
            "script",
            "memory",
        ),
        (
            "function handler() { return 'user.updated'; }",
            "script",
            "not a string",
        ),
        (
            "function handler() { return [{ data: {} }, { type: 'Bad Type', data: 1 }]; }",
            "events",
            "events[0].type",
        ),
        (
            "function handler() { return { type: 'authhooks.endpoint.disabled', data: {} }; }",
            "events",
            "authhooks",
        ),
    ];
    for (script, kind, error) in cases {
        let secret = Secret::generate([8; 32]);
        let (id, _) = create_source(
            &router,
            "",
            json!({"name": "n", "script": script,
                   "verification": {"scheme": "standard-webhooks", "secret": secret.expose()}}),
        )
        .await;
        let body = br#"{"kind":"order"}"#;
        let now = world.clock.now().timestamp();
        let (status, answer) = call(
            &ingest(&world),
            inbound(&id, &signed(&secret, "m", now, body), body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{script}: {answer}");
        assert_eq!(answer["events"], json!([]));
        assert_eq!(answer["failure"]["kind"], kind, "{script}: {answer}");
        let message = answer["failure"]["error"].as_str().unwrap();
        assert!(message.contains(error), "{script}: {message}");

        let (_, failures) = call_admin(
            &router,
            "",
            "GET",
            &format!("/v1/sources/{id}/failures"),
            None,
        )
        .await;
        let items = failures["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{failures}");
        assert_eq!(items[0]["id"], answer["failure"]["id"]);
        assert_eq!(items[0]["body"], r#"{"kind":"order"}"#);
        assert_eq!(items[0]["error"], message);
        // What the script logged before it failed is kept with it.
        if script.contains("console.log") {
            assert_eq!(items[0]["logs"], json!(["kind order"]), "{failures}");
        }
    }
    world.run_until_idle(Duration::from_secs(60)).await;
    assert!(world.sender.sent().is_empty());
}

#[tokio::test]
async fn sources_are_validated_listed_patched_and_deleted_and_never_show_a_secret() {
    let world = World::new();
    let router = admin(&world);
    let bad = [
        (
            json!({"name": "n", "script": "function handler( {", "verification": {"scheme": "standard-webhooks"}}),
            "script",
        ),
        (
            json!({"name": "n", "script": "function other() {}", "verification": {"scheme": "standard-webhooks"}}),
            "script",
        ),
        (
            json!({"name": "n", "script": "while (true) {}", "verification": {"scheme": "standard-webhooks"}}),
            "script",
        ),
        (
            json!({"name": "n", "script": "function handler() {}", "verification": {"scheme": "stripe"}}),
            "verification.secret",
        ),
        (
            json!({"name": "n", "script": "function handler() {}", "verification": {"scheme": "hmac-sha256", "secret": "long enough", "header": "bad header"}}),
            "verification.header",
        ),
        (
            json!({"script": "function handler() {}", "verification": {"scheme": "standard-webhooks"}}),
            "name",
        ),
    ];
    for (spec, field) in bad {
        let (status, problem) =
            call_admin(&router, "", "POST", "/v1/sources", Some(spec.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{spec}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, list) = call_admin(&router, "", "GET", "/v1/sources", None).await;
    assert_eq!(
        list["items"],
        json!([]),
        "nothing stored by a refused create"
    );

    let (id, created) = create_source(
        &router,
        "",
        json!({"name": "Stripe", "origin": "stripe", "script": "function handler() { return null; }",
               "verification": {"scheme": "stripe", "secret": "whsec_stripe_secret_1"}}),
    )
    .await;
    assert!(
        created.get("secret").is_none(),
        "a given secret is not echoed: {created}"
    );
    assert_eq!(created["inbound_path"], format!("/v1/inbound/{id}"));
    assert_eq!(created["verification"], json!({"scheme": "stripe"}));
    let (status, got) = call_admin(&router, "", "GET", &format!("/v1/sources/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!got.to_string().contains("whsec_stripe_secret_1"));

    let (status, patched) = call_admin(
        &router,
        "",
        "PATCH",
        &format!("/v1/sources/{id}"),
        Some(json!({"description": "billing", "script": "function handler( {"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{patched}");
    let (status, patched) = call_admin(
        &router,
        "",
        "PATCH",
        &format!("/v1/sources/{id}"),
        Some(json!({"description": "billing"})),
    )
    .await;
    assert_eq!(
        (status, patched["description"].clone()),
        (StatusCode::OK, json!("billing"))
    );
    assert_eq!(patched["script"], "function handler() { return null; }");

    let (_, list) = call_admin(&router, "", "GET", "/v1/sources", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, _) = call_admin(&router, "", "DELETE", &format!("/v1/sources/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call_admin(&router, "", "GET", &format!("/v1/sources/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_dry_run_shows_the_events_a_script_would_make_and_ingests_nothing() {
    let (world, id, _) = world().await;
    let router = admin(&world);
    let path = format!("/v1/sources/{id}/dry-run");
    let (status, run) = call_admin(
        &router,
        "",
        "POST",
        &path,
        Some(json!({"body": after_change("Ada L")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["error"], Value::Null);
    assert_eq!(run["events"][0]["type"], "user.updated");
    assert_eq!(run["events"][0]["origin"], "payload");
    assert_eq!(run["events"][0]["data"]["user"]["name"], "Ada L");
    // A script to try instead of the stored one, with what it logs and where it fails.
    let trial =
        "function handler(r) { console.log('saw', r.body.collection); return [{ data: {} }]; }";
    let (_, run) = call_admin(
        &router,
        "",
        "POST",
        &path,
        Some(json!({"body": after_change("x"), "script": trial})),
    )
    .await;
    assert_eq!(run["logs"], json!(["saw users"]));
    assert!(
        run["error"].as_str().unwrap().contains("events[0].type"),
        "{run}"
    );
    let (status, problem) =
        call_admin(&router, "", "POST", &path, Some(json!({"bodyy": {}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    world.run_until_idle(Duration::from_secs(60)).await;
    assert!(world.sender.sent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_moto_a_stripe_request_signed_by_stripes_library_is_delivered_and_a_tampered_one_refused(
) {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let receiver = Receiver::start().await;
    let (_, endpoint_secret) = pipeline
        .add_endpoint(json!({"url": receiver.url(), "event_types": ["user.*"], "ordering": "none"}))
        .await;
    let script = r#"function handler(r) {
        const e = r.body;
        if (e.type !== "customer.updated") return null;
        const c = e.data.object;
        return { id: "stripe_" + e.id, type: "user.updated", subject: c.metadata.userId,
                 data: { user: { id: c.metadata.userId, email: c.email } } };
    }"#;
    let stripe_secret = "whsec_moto_stripe_secret_42";
    let (status, created) = pipeline
        .admin(
            "POST",
            "/v1/sources",
            Some(
                json!({"name": "Stripe", "origin": "stripe", "script": script,
            "verification": {"scheme": "stripe", "secret": stripe_secret}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let payload = r#"{"id":"evt_1Q","object":"event","type":"customer.updated","data":{"object":{"id":"cus_9","email":"ada@example.com","metadata":{"userId":"u_7"}}}}"#;
    let header = stripe_signature(payload, stripe_secret, Utc::now().timestamp()).unwrap();
    let stripe = vec![("stripe-signature".to_owned(), header.clone())];
    let (status, answer) = call(&pipeline.ingest, inbound(&id, &stripe, payload.as_bytes())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["events"][0]["id"], "stripe_evt_1Q");

    // One byte of the body changed under the same header: refused, nothing run or kept.
    let tampered = payload.replace("ada@", "eve@");
    let (status, problem) =
        call(&pipeline.ingest, inbound(&id, &stripe, tampered.as_bytes())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");

    pipeline
        .run_until("the Stripe event", Duration::from_secs(20), || async {
            !receiver.requests().is_empty()
        })
        .await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let event: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        (event["type"].clone(), event["origin"].clone()),
        (json!("user.updated"), json!("stripe"))
    );
    assert_eq!(event["data"]["user"]["email"], "ada@example.com");
    verify_with_python(&endpoint_secret, &requests).unwrap();

    // A failure over DynamoDB: kept, listed newest first, body and all.
    let broken = "function handler(r) { throw new Error('cannot map ' + r.body.type); }";
    let (status, _) = pipeline
        .admin(
            "PATCH",
            &format!("/v1/sources/{id}"),
            Some(json!({"script": broken})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for n in 0..2 {
        let body = payload.replace("evt_1Q", &format!("evt_f{n}"));
        let header = stripe_signature(&body, stripe_secret, Utc::now().timestamp()).unwrap();
        let headers = vec![("stripe-signature".to_owned(), header)];
        let (status, answer) =
            call(&pipeline.ingest, inbound(&id, &headers, body.as_bytes())).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["failure"]["kind"], "script");
    }
    let (_, failures) = call_admin(
        &pipeline.admin,
        ADMIN_TOKEN,
        "GET",
        &format!("/v1/sources/{id}/failures?limit=1"),
        None,
    )
    .await;
    assert_eq!(failures["items"].as_array().unwrap().len(), 1, "{failures}");
    assert!(
        failures["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("evt_f1"),
        "{failures}"
    );
    let cursor = failures["next_cursor"].as_str().unwrap();
    let (_, rest) = call_admin(
        &pipeline.admin,
        ADMIN_TOKEN,
        "GET",
        &format!("/v1/sources/{id}/failures?limit=5&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("evt_f0"));
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(
        rest["items"][0]["error"],
        "the script threw: cannot map customer.updated (script:1:55)"
    );

    // Sources listed from their index, page by page, never the failed requests kept beside them.
    let (status, _) = pipeline
        .admin(
            "POST",
            "/v1/sources",
            Some(json!({"name": "Second", "script": "function handler() {}",
            "verification": {"scheme": "standard-webhooks"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, first) = pipeline.admin("GET", "/v1/sources?limit=1", None).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = pipeline
        .admin("GET", &format!("/v1/sources?limit=1&cursor={cursor}"), None)
        .await;
    let mut names = vec![
        first["items"][0]["name"].clone(),
        second["items"][0]["name"].clone(),
    ];
    names.sort_by_key(ToString::to_string);
    assert_eq!(names, [json!("Second"), json!("Stripe")]);
    assert_eq!(second["next_cursor"], Value::Null);
}
