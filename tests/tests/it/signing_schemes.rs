//! Every signature scheme end to end — local mode over real HTTP, and the functions over
//! moto's SQS and DynamoDB — verified by receivers that are not ours: each design-note
//! guide's receiver code in Node for the compatibility schemes, Python's `cryptography` for
//! Ed25519 (`v1a`) with the public key the admin API shows, and the reference Standard
//! Webhooks libraries for the default.

use std::time::Duration;

use serde_json::{json, Value};

use authhooks_tests::lambda::AwsPipeline;
use authhooks_tests::local::LocalServer;
use authhooks_tests::moto::QueueOptions;
use authhooks_tests::scheme_oracle::{verify_v1a_with_python, verify_with_guides, Guide};
use authhooks_tests::{verify_with_python, Receiver, Recorded};

const ADMIN_TOKEN: &str = "schemes-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const WAIT: Duration = Duration::from_secs(30);

/// An endpoint's signing, and which independent receiver checks what it gets.
struct Case {
    signing: Value,
    oracle: Oracle,
}

#[derive(Clone, Copy)]
enum Oracle {
    Standard,
    V1a,
    Guide(Guide),
}

fn cases() -> Vec<Case> {
    let case = |signing: Value, oracle| Case { signing, oracle };
    vec![
        case(json!({"scheme": "standard-webhooks"}), Oracle::Standard),
        case(json!({"scheme": "standard-webhooks-v1a"}), Oracle::V1a),
        case(
            json!({"scheme": "hmac-hex"}),
            Oracle::Guide(Guide::HexHmac {
                header: "x-webhook-signature",
            }),
        ),
        case(
            json!({"scheme": "hmac-hex", "signature_header": "X-BetterAuth-Signature"}),
            Oracle::Guide(Guide::HexHmac {
                header: "x-betterauth-signature",
            }),
        ),
        case(
            json!({"scheme": "hmac-sha256-prefixed"}),
            Oracle::Guide(Guide::Sha256Prefixed),
        ),
        case(
            json!({"scheme": "hmac-timestamped"}),
            Oracle::Guide(Guide::Timestamped),
        ),
        case(
            json!({"scheme": "hmac-iso-timestamped",
                   "signature_header": "x-authon-signature",
                   "timestamp_header": "x-authon-timestamp"}),
            Oracle::Guide(Guide::IsoTimestamped),
        ),
    ]
}

fn event(id: &str) -> Value {
    json!({"id": id, "type": "user.created", "origin": "better-auth",
           "data": {"user": {"id": "u_1", "email": "a@example.com", "name": "Zoë"}}})
}

/// What each endpoint's receiver got, checked by the case's oracle. `public_key` is read
/// from the endpoint's view (`public_keys[0].key`).
fn check(cases: &[Case], got: &[(Value, String, Recorded)]) {
    let mut guides = Vec::new();
    let mut v1a = Vec::new();
    for (case, (view, secret, request)) in cases.iter().zip(got) {
        assert_eq!(request.header("webhook-id"), Some("evt_schemes"));
        assert_eq!(view["signing"]["scheme"], case.signing["scheme"]);
        match case.oracle {
            Oracle::Standard => verify_with_python(secret, std::slice::from_ref(request))
                .unwrap_or_else(|e| panic!("standard-webhooks: {e}")),
            Oracle::V1a => {
                let key = view["public_keys"][0]["key"]
                    .as_str()
                    .expect("a public key");
                assert!(key.starts_with("whpk_"), "{view}");
                v1a.push((key.to_owned(), request));
            }
            Oracle::Guide(guide) => guides.push((guide, secret.as_str(), request)),
        }
    }
    let v1a: Vec<(&str, &Recorded)> = v1a.iter().map(|(k, r)| (k.as_str(), *r)).collect();
    verify_v1a_with_python(&v1a).unwrap_or_else(|e| panic!("v1a: {e}"));
    verify_with_guides(&guides).unwrap_or_else(|e| panic!("guides: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_deliveries_verify_with_each_schemes_own_receiver() {
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let cases = cases();
    let mut endpoints = Vec::new();
    for case in &cases {
        let receiver = Receiver::start().await;
        let created = local
            .create_endpoint(&json!({"url": receiver.url(), "event_types": ["user.*"],
                                     "signing": case.signing}))
            .await;
        let secret = created["secret"].as_str().unwrap().to_owned();
        let id = created["id"].as_str().unwrap().to_owned();
        endpoints.push((receiver, id, secret));
    }
    let (status, answer, _) = local
        .ingest(event("evt_schemes").to_string().as_bytes())
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["events"][0]["deliveries"], cases.len());

    let mut got = Vec::new();
    for (receiver, id, secret) in endpoints {
        let request = receiver.wait_for(1, WAIT).await.remove(0);
        let (status, view) = local
            .admin("GET", &format!("/v1/endpoints/{id}"), None)
            .await;
        assert_eq!(status, 200, "{view}");
        got.push((view, secret, request));
    }
    check(&cases, &got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_over_sqs_and_dynamodb_verify_with_each_schemes_own_receiver() {
    let pipeline = AwsPipeline::start(QueueOptions::default()).await;
    let cases = cases();
    let mut endpoints = Vec::new();
    for case in &cases {
        let receiver = Receiver::start().await;
        let (id, secret) = pipeline
            .add_endpoint(json!({"url": receiver.url(), "event_types": ["user.*"],
                                 "signing": case.signing}))
            .await;
        endpoints.push((receiver, id, secret));
    }
    let (status, body) = pipeline.post_event(&event("evt_schemes")).await;
    assert_eq!(status.as_u16(), 202, "{body}");
    pipeline
        .run_until("every scheme's delivery", WAIT, || async {
            endpoints.iter().all(|(r, _, _)| !r.requests().is_empty())
        })
        .await;
    let mut got = Vec::new();
    for (receiver, id, secret) in &endpoints {
        // The endpoint as DynamoDB keeps it: the scheme and header names came back.
        let (status, view) = pipeline
            .admin("GET", &format!("/v1/endpoints/{id}"), None)
            .await;
        assert_eq!(status.as_u16(), 200, "{view}");
        got.push((view, secret.clone(), receiver.requests().remove(0)));
    }
    check(&cases, &got);
}
