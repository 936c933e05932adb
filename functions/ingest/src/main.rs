//! The ingest Lambda (Function URL): configuration and clients once, then the shared ingest
//! router under lambda_http.

use std::sync::Arc;

use authhooks::api::{admin::not_found_fallback, ingest};
use authhooks::lambda::{telemetry, wiring};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let api = wiring::ingest_api().await?;
    let app = not_found_fallback(ingest::router(Arc::new(api)));
    lambda_http::run(app)
        .await
        .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
