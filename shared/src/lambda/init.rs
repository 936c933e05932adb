//! A cold start that fails is reported to Lambda as an init error, in JSON, through the
//! Runtime API's `/runtime/init/error` (lambda_runtime only reports its own SnapStart
//! failures there): Lambda then records `Runtime.ConfigError` or the like with our message
//! in the invocation's error and the function's `Errors`, instead of an `Runtime.ExitError`
//! and a plain-text line in the log. The failure is also logged as one JSON line.

use std::fmt::Display;
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use super::wiring::WiringError;

/// Where Lambda's Runtime API listens (`host:port`), set in every Lambda environment.
pub const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
/// The header Lambda reads the error type from.
pub const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";

/// The body of an init error report, in the Runtime API's error format.
pub fn init_error_body(error_type: &str, message: &str) -> String {
    json!({"errorType": error_type, "errorMessage": message, "stackTrace": []}).to_string()
}

#[derive(Debug, thiserror::Error)]
#[error("the init error could not be reported to the Runtime API: {0}")]
pub struct ReportError(String);

/// Posts the init error to the Runtime API at `api` (`host:port`).
pub async fn report_init_error(
    api: &str,
    error_type: &str,
    message: &str,
) -> Result<(), ReportError> {
    let client = reqwest::Client::builder()
        .no_proxy()
        // A Runtime API that does not answer must not hold the failed cold start.
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| ReportError(e.to_string()))?;
    let response = client
        .post(format!("http://{api}{INIT_ERROR_PATH}"))
        .header(ERROR_TYPE_HEADER, error_type)
        .header("content-type", "application/json")
        .body(init_error_body(error_type, message))
        .send()
        .await
        .map_err(|e| ReportError(e.to_string()))?;
    if !response.status().is_success() {
        return Err(ReportError(format!("answered {}", response.status())));
    }
    Ok(())
}

/// Runs a function's cold start; on failure logs it, reports it as an init error when
/// running under Lambda, and gives the exit code to end the process with.
pub async fn start<T>(init: impl Future<Output = Result<T, WiringError>>) -> Result<T, ExitCode> {
    let runtime_api = std::env::var(RUNTIME_API_VAR).ok();
    start_reporting_to(runtime_api, init).await
}

/// [`start`] with the Runtime API's address given (`None`: not under Lambda, log only).
pub async fn start_reporting_to<T>(
    runtime_api: Option<String>,
    init: impl Future<Output = Result<T, WiringError>>,
) -> Result<T, ExitCode> {
    let error = match init.await {
        Ok(ready) => return Ok(ready),
        Err(error) => error,
    };
    let (error_type, message) = (error.error_type(), error.to_string());
    tracing::error!(error_type, error = %message, "cold start failed");
    if let Some(api) = runtime_api.filter(|a| !a.is_empty()) {
        if let Err(e) = report_init_error(&api, error_type, &message).await {
            tracing::error!(error = %e, "init error not reported");
        }
    }
    Err(ExitCode::FAILURE)
}

/// The exit code once the runtime's loop ends (it ends only when the Runtime API fails).
pub fn ended<E: Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::secrets::SecretReadError;
    use crate::lambda::config::ConfigError;

    #[test]
    fn each_cold_start_failure_has_its_error_type() {
        let config = WiringError::Config(ConfigError::Missing("AUTHHOOKS_STATE_TABLE"));
        let secret = WiringError::Secret(SecretReadError::NotAString {
            arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s".into(),
        });
        let http = WiringError::Http("no TLS roots".into());
        assert_eq!(config.error_type(), "Runtime.ConfigError");
        assert_eq!(secret.error_type(), "Runtime.SecretError");
        assert_eq!(http.error_type(), "Runtime.InitError");
    }

    #[test]
    fn the_body_is_the_runtime_apis_error_json() {
        let body: serde_json::Value =
            serde_json::from_str(&init_error_body("Runtime.ConfigError", "X is not set")).unwrap();
        assert_eq!(
            body,
            json!({"errorType": "Runtime.ConfigError", "errorMessage": "X is not set", "stackTrace": []})
        );
    }
}
