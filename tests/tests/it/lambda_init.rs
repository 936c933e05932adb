//! A cold start that fails reaches Lambda as an init error: a JSON error report posted to
//! the Runtime API's `/runtime/init/error`, with the error type in its header, and an exit
//! code that ends the process (issue #15, finding 8).

use std::time::Duration;

use serde_json::{json, Value};

use authhooks::lambda::config::ConfigError;
use authhooks::lambda::init::{start_reporting_to, ERROR_TYPE_HEADER, INIT_ERROR_PATH};
use authhooks::lambda::wiring::WiringError;
use authhooks_tests::Receiver;

#[tokio::test]
async fn a_failed_cold_start_is_posted_to_the_runtime_api_as_a_json_init_error() {
    let runtime_api = Receiver::start().await;
    let failed = start_reporting_to(Some(runtime_api.addr().to_string()), async {
        Err::<(), _>(WiringError::Config(ConfigError::Missing(
            "AUTHHOOKS_STATE_TABLE",
        )))
    })
    .await;
    assert!(failed.is_err(), "a failed cold start must end the process");

    let requests = runtime_api.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    let report = &requests[0];
    assert_eq!(report.method, "POST");
    assert_eq!(report.path, INIT_ERROR_PATH);
    assert_eq!(
        report.header(&ERROR_TYPE_HEADER.to_ascii_lowercase()),
        Some("Runtime.ConfigError")
    );
    let body: Value = serde_json::from_slice(&report.body)
        .unwrap_or_else(|e| panic!("the report is no JSON ({e}): {:?}", report.body));
    assert_eq!(
        body,
        json!({
            "errorType": "Runtime.ConfigError",
            "errorMessage": "AUTHHOOKS_STATE_TABLE is not set",
            "stackTrace": [],
        })
    );
}

#[tokio::test]
async fn a_cold_start_that_succeeds_reports_nothing() {
    let runtime_api = Receiver::start().await;
    let ready = start_reporting_to(Some(runtime_api.addr().to_string()), async {
        Ok::<_, WiringError>(7)
    })
    .await;
    assert_eq!(ready.ok(), Some(7));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(runtime_api.requests().is_empty());
}
