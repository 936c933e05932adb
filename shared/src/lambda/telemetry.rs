//! Logging: JSON lines when Lambda's log format is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`),
//! plain text otherwise; the level from `RUST_LOG` (default `info`). Without ANSI colours,
//! which CloudWatch would show as noise. Never the AWS SDK's trace dumps of whole requests
//! and responses, which would put endpoint secrets and payloads in the logs.

use tracing::Subscriber;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::adapters::is_sdk_wire_dump;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // A second init (tests) keeps the first subscriber.
    let _ = if json {
        json_subscriber(filter, std::io::stdout).try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .finish()
            .with(filter_fn(|metadata| !is_sdk_wire_dump(metadata)))
            .try_init()
    };
}

/// The JSON-lines subscriber of the functions (flattened events with their current span),
/// writing to `writer`; `init` installs it over stdout, tests over memory.
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .without_time()
        .finish()
        .with(filter_fn(|metadata| !is_sdk_wire_dump(metadata)))
}
