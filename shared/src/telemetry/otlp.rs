//! OTLP/HTTP trace export, on only when the standard OpenTelemetry environment names an
//! endpoint: then `ingest` and `deliver` spans (authhooks' own, at `info`) become
//! OpenTelemetry spans, batched on the SDK's thread and sent as http/protobuf.

use std::str::FromStr;

use opentelemetry::trace::{
    SpanContext, SpanId as OtelSpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::domain::trace::{SpanId, TraceParent};

/// Either names a collector; the traces one wins, as the spec orders them.
pub const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("OTLP exporter: {0}")]
    Exporter(String),
}

/// The span layer an exporting subscriber adds: only authhooks' own spans, so neither
/// the HTTP and AWS clients' internals nor the exporter's own requests become spans.
pub type OtlpLayer<S> = Filtered<OpenTelemetryLayer<S, SdkTracer>, Targets, S>;

/// The installed exporter; clones share it.
#[derive(Clone, Debug)]
pub struct Otlp {
    provider: SdkTracerProvider,
}

/// Whether the environment asks for export: an endpoint is set and the SDK is not disabled.
pub fn configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && ENDPOINT_VARS.iter().any(|name| set(name))
}

impl Otlp {
    /// The exporter the environment configures, or `None` when it names no endpoint (then
    /// nothing is built: no client, no thread). `service` names the process unless
    /// `OTEL_SERVICE_NAME` does; the SDK reads the other `OTEL_*` settings itself.
    pub fn from_env(service: &str) -> Result<Option<Self>, OtlpError> {
        if !configured() {
            return Ok(None);
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| OtlpError::Exporter(e.to_string()))?;
        let resource = if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
            Resource::builder().build()
        } else {
            Resource::builder()
                .with_service_name(service.to_owned())
                .build()
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Some(Self { provider }))
    }

    /// The layer to add to a subscriber built on a registry.
    pub fn layer<S>(&self) -> OtlpLayer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer("authhooks");
        let ours = Targets::new().with_target("authhooks", tracing::Level::INFO);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(ours)
    }

    /// Exports what has ended so far; a Lambda calls it before its invocation returns,
    /// since a frozen sandbox runs no batch thread. Blocking, so off the async workers.
    pub async fn flush(&self) {
        let provider = self.provider.clone();
        let flushed = tokio::task::spawn_blocking(move || provider.force_flush()).await;
        if let Ok(Err(e)) = flushed {
            tracing::warn!(error = %e, "traces not exported");
        }
    }

    /// Exports what is left and stops the batch thread (at exit).
    pub async fn shutdown(self) {
        let provider = self.provider;
        let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = stopped {
            tracing::warn!(error = %e, "traces not exported at shutdown");
        }
    }
}

/// Parents `span` on the producer's span (remote), keeping its trace id and `tracestate`.
/// Does nothing when no exporting layer is installed.
pub(super) fn set_parent(span: &tracing::Span, trace: &TraceParent) {
    let state = trace
        .state()
        .and_then(|s| TraceState::from_str(s.as_str()).ok())
        .unwrap_or_default();
    let remote = SpanContext::new(
        TraceId::from_bytes(trace.trace_id()),
        OtelSpanId::from_bytes(trace.parent_id()),
        TraceFlags::new(trace.flags()),
        true,
        state,
    );
    // Fails only once the span was built, which callers avoid by calling this first.
    let _ = span.set_parent(Context::new().with_remote_span_context(remote));
}

/// `span`'s exported span id, if an exporting layer records it.
pub(super) fn span_id(span: &tracing::Span) -> Option<SpanId> {
    let context = span.context();
    let current = context.span();
    let ids = current.span_context();
    if ids.is_valid() {
        SpanId::from_bytes(ids.span_id().to_bytes())
    } else {
        None
    }
}
