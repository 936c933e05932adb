//! The ingest Lambda (Function URL): configuration and clients once, then the shared ingest
//! router under lambda_http.

use std::process::ExitCode;
use std::sync::Arc;

use authhooks::api::{admin::not_found_fallback, ingest};
use authhooks::lambda::{init, telemetry, wiring};

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry::init("authhooks-ingest");
    let api = match init::start(wiring::ingest_api()).await {
        Ok(api) => api,
        Err(code) => return code,
    };
    let app = not_found_fallback(ingest::router(Arc::new(api)));
    let app = telemetry::flushing(app, telemetry);
    init::ended(lambda_http::run(app).await)
}
