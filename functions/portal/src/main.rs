//! The tenant portal Lambda (a public Function URL: each request carries a portal token,
//! checked by the shared portal router): configuration, clients and the portal key once,
//! then the page and `/v1/portal/*` under lambda_http.

use std::process::ExitCode;
use std::sync::Arc;

use authhooks::api::admin::not_found_fallback;
use authhooks::api::portal;
use authhooks::lambda::{init, telemetry, wiring};

#[tokio::main]
async fn main() -> ExitCode {
    // Installed for its logs; this function makes no spans to export.
    let _telemetry = telemetry::init("authhooks-portal");
    let api = match init::start(wiring::portal_api()).await {
        Ok(api) => api,
        Err(code) => return code,
    };
    let app = not_found_fallback(portal::router(Arc::new(api)));
    init::ended(lambda_http::run(app).await)
}
