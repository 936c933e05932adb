//! docs/architecture.md §3.1: where the ingest Function URL uses IAM auth, the producer
//! signature check is turned off by configuration (`AUTHHOOKS_INGEST_AUTH=iam`); by default
//! it is on and an unsigned event is refused with 401.

use axum::http::StatusCode;
use serde_json::{json, Value};

use authhooks::app::ingest::IngestSettings;
use authhooks::domain::signature::Secret;
use authhooks::lambda::config::{ingest_secret_source_from_env, IngestSecretSource};

use crate::contract::System;

const INGEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn user_created(id: &str) -> Value {
    json!({"id": id, "type": "user.created", "data": {"user": {"id": "u_1"}}})
}

/// The ingest function's settings as `wiring::ingest_api` reads them from the environment.
fn settings_from_env() -> IngestSettings {
    IngestSettings {
        secret: match ingest_secret_source_from_env().expect("the ingest configuration was refused")
        {
            IngestSecretSource::Iam => None,
            IngestSecretSource::Value(secret) => Some(secret),
            other => panic!("unexpected source {other:?}"),
        },
        ..IngestSettings::default()
    }
}

/// One test, so nothing else in this binary reads the environment while it changes it.
#[tokio::test]
async fn the_ingest_signature_check_is_on_by_default_and_off_in_iam_mode() {
    // IAM mode needs no secret...
    std::env::set_var("AUTHHOOKS_INGEST_AUTH", "iam");
    std::env::remove_var("AUTHHOOKS_INGEST_SECRET");
    assert!(settings_from_env().secret.is_none());
    // ...and wins over one left configured: an unsigned valid event is accepted and fanned out.
    std::env::set_var("AUTHHOOKS_INGEST_SECRET", INGEST_SECRET);
    let iam = System::new(settings_from_env());
    iam.add_endpoint(json!({"url": "https://hooks.example.com/in", "event_types": ["*"]}))
        .await;
    let (status, body) = iam.post_event(&user_created("evt_iam_1"), None).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "IAM mode refused an unsigned event: {body}"
    );
    assert_eq!(
        body["events"][0]["deliveries"], 1,
        "accepted but not fanned out: {body}"
    );
    assert_eq!(iam.queue.len(), 1);

    // The default (no AUTHHOOKS_INGEST_AUTH), and "signature" said outright: the check is on.
    for mode in [None, Some("signature")] {
        match mode {
            Some(mode) => std::env::set_var("AUTHHOOKS_INGEST_AUTH", mode),
            None => std::env::remove_var("AUTHHOOKS_INGEST_AUTH"),
        }
        let signed = System::new(settings_from_env());
        signed
            .add_endpoint(json!({"url": "https://hooks.example.com/in", "event_types": ["*"]}))
            .await;
        let (status, body) = signed.post_event(&user_created("evt_sig_1"), None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "mode {mode:?} accepted an unsigned event: {body}"
        );
        assert_eq!(body["status"], 401, "{body}");
        assert_eq!(signed.queue.len(), 0, "a refused event was enqueued");

        let secret = Secret::parse(INGEST_SECRET).unwrap();
        let (status, body) = signed
            .post_event(&user_created("evt_sig_2"), Some(&secret))
            .await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "a signed event was refused: {body}"
        );
        assert_eq!(signed.queue.len(), 1);
    }
    std::env::remove_var("AUTHHOOKS_INGEST_SECRET");
}
