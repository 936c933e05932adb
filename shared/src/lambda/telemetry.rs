//! Logging: JSON lines when Lambda's log format is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`),
//! plain text otherwise; the level from `RUST_LOG` (default `info`). Without ANSI colours,
//! which CloudWatch would show as noise.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false);
    // A second init (tests) keeps the first subscriber.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .without_time()
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}
