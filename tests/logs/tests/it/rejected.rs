//! Requests refused at the door log none of what they carried: a bad signature (401), an
//! invalid or malformed event (422, 400), a wrong admin token (401).

use serde_json::json;

use super::capture::{captured, secret_forms, signature_values};
use super::local::{Local, EMAIL, SENTINEL};

const ADMIN_TOKEN: &str = "log-capture-admin-token-rejected";
const WRONG_TOKEN: &str = "log-capture-wrong-token-rejected";
const INGEST_SECRET: &str = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
/// A producer's secret the system does not know.
const OTHER_SECRET: &str = "whsec_QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_log_no_secret_signature_token_or_payload() {
    let logs = captured();
    let local = Local::start(ADMIN_TOKEN, INGEST_SECRET, 2).await;
    let mut needles = Vec::new();

    let event = json!({"id": "evt_rejected_1", "type": "user.updated",
                       "data": {"user": {"email": EMAIL, "note": SENTINEL}}});
    let (status, answer, signature) = local
        .ingest_signed_with(OTHER_SECRET, event.to_string().as_bytes(), &[])
        .await;
    assert_eq!(status, 401, "{answer}");
    needles.extend(signature_values(&signature));

    // Signed, but no event: the type is missing and the id invalid.
    let invalid = json!({"id": format!("bad id {SENTINEL}"), "data": {"email": EMAIL}});
    let (status, answer, signature) = local.ingest(invalid.to_string().as_bytes()).await;
    assert_eq!(status, 422, "{answer}");
    needles.extend(signature_values(&signature));

    // Signed, but not JSON at all.
    let malformed = format!("{{\"type\": \"user.updated\", \"data\": {{\"note\": \"{SENTINEL}\"");
    let (status, answer, signature) = local.ingest(malformed.as_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    needles.extend(signature_values(&signature));

    let wrong = local.with_admin_token(WRONG_TOKEN);
    let (status, answer) = wrong
        .admin(
            "POST",
            "/v1/endpoints",
            Some(&json!({"url": "http://x.test"})),
        )
        .await;
    assert_eq!(status, 401, "{answer}");
    wrong.running.shutdown().await;

    needles.extend(secret_forms(INGEST_SECRET));
    needles.extend(secret_forms(OTHER_SECRET));
    needles.extend([
        ADMIN_TOKEN.to_owned(),
        WRONG_TOKEN.to_owned(),
        SENTINEL.to_owned(),
        EMAIL.to_owned(),
    ]);
    logs.assert_free_of(&needles);
}
