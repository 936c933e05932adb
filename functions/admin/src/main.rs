//! The admin Lambda (Function URL with IAM auth): configuration and clients once, then the
//! shared admin router under lambda_http.

use std::sync::Arc;

use authhooks::api::admin::{self, not_found_fallback};
use authhooks::lambda::{telemetry, wiring};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let api = wiring::admin_api().await?;
    let app = not_found_fallback(admin::router(Arc::new(api)));
    lambda_http::run(app)
        .await
        .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
