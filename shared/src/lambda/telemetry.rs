//! Logging: JSON lines when Lambda's log format is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`),
//! plain text otherwise; the level from `RUST_LOG` (default `info`). Without ANSI colours,
//! which CloudWatch would show as noise. Never the AWS SDK's trace dumps of whole requests
//! and responses, which would put endpoint secrets and payloads in the logs. With the
//! `otel` feature and an OTLP endpoint in the environment, spans are exported too.

use tracing::Subscriber;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::adapters::is_sdk_wire_dump;

/// What the functions keep of their telemetry: the trace exporter, when one is configured.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    otlp: Option<crate::telemetry::otlp::Otlp>,
}

impl Telemetry {
    /// Exports the invocation's spans before it returns (the sandbox may freeze after);
    /// nothing to do without an exporter.
    pub async fn flush(&self) {
        #[cfg(feature = "otel")]
        if let Some(otlp) = &self.otlp {
            otlp.flush().await;
        }
    }
}

/// Installs the logging subscriber, with the OTLP span layer when configured. `service` is
/// the default `service.name` of exported spans.
pub fn init(service: &str) -> Telemetry {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    #[cfg(feature = "otel")]
    match crate::telemetry::otlp::Otlp::from_env(service) {
        Ok(Some(otlp)) => {
            exporting::install(&otlp, filter(), json);
            return Telemetry { otlp: Some(otlp) };
        }
        Ok(None) => {}
        // Logs still work; the function is not kept from starting by its traces.
        Err(e) => eprintln!("traces not exported: {e}"),
    }
    let _ = service;
    // A second init (tests) keeps the first subscriber.
    let _ = if json {
        json_subscriber(filter(), std::io::stdout).try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .finish()
            .with(filter_fn(|metadata| !is_sdk_wire_dump(metadata)))
            .try_init()
    };
    Telemetry::default()
}

/// `router` with each answer's spans exported before the answer leaves the function.
pub fn flushing(router: axum::Router, telemetry: Telemetry) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(
        telemetry,
        |axum::extract::State(telemetry): axum::extract::State<Telemetry>,
         request: axum::extract::Request,
         next: axum::middleware::Next| async move {
            let response = next.run(request).await;
            telemetry.flush().await;
            response
        },
    ))
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
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

/// The same logs over a registry that also feeds the span exporter; the log filter is the
/// fmt layer's own, so `RUST_LOG` does not decide what is exported.
#[cfg(feature = "otel")]
mod exporting {
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};

    use crate::adapters::is_sdk_wire_dump;
    use crate::telemetry::otlp::Otlp;

    pub(super) fn install(otlp: &Otlp, filter: EnvFilter, json: bool) {
        let registry = tracing_subscriber::registry()
            .with(otlp.layer())
            .with(filter_fn(|metadata| !is_sdk_wire_dump(metadata)));
        let _ = if json {
            let logs = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_target(false)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .without_time()
                .with_filter(filter);
            registry.with(logs).try_init()
        } else {
            let logs = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_target(false)
                .without_time()
                .with_filter(filter);
            registry.with(logs).try_init()
        };
    }
}
