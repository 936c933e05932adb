//! The admin Lambda (Function URL with IAM auth): configuration and clients once, then the
//! shared admin router under lambda_http.

use std::process::ExitCode;
use std::sync::Arc;

use authhooks::api::admin::{self, not_found_fallback};
use authhooks::lambda::{init, telemetry, wiring};

#[tokio::main]
async fn main() -> ExitCode {
    // Installed for its logs; this function makes no spans to export.
    let _telemetry = telemetry::init("authhooks-admin");
    let api = match init::start(wiring::admin_api()).await {
        Ok(api) => api,
        Err(code) => return code,
    };
    let app = not_found_fallback(admin::router(Arc::new(api)));
    init::ended(lambda_http::run(app).await)
}
