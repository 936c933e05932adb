//! Trace context on `tracing` spans: the `ingest` and `deliver` spans continue the
//! producer's trace, and an attempt's span id becomes the parent id it sends.
//!
//! With the `otel` feature and an OTLP endpoint configured ([`otlp`]), the spans are
//! OpenTelemetry spans parented on the producer's context and their ids are the exported
//! ones; otherwise only the `trace_id` field is recorded (so log lines carry it) and the
//! span id sent on is drawn at random, so the code paths are the same either way.

#[cfg(feature = "otel")]
pub mod otlp;

use crate::domain::trace::{SpanId, TraceParent};

/// Makes `span` continue `trace`: records its `trace_id` field (declared `Empty` by the
/// caller) and, when exporting, sets the producer's span as its remote parent. Call before
/// the span is first entered.
pub fn follow(span: &tracing::Span, trace: &TraceParent) {
    span.record("trace_id", trace.trace_id_hex());
    #[cfg(feature = "otel")]
    otlp::set_parent(span, trace);
}

/// The id the next hop should see as its parent: `span`'s exported id when there is one,
/// else `random` (no exporter, so no span of ours will ever be looked up by it).
pub fn span_id(span: &tracing::Span, random: u64) -> SpanId {
    #[cfg(feature = "otel")]
    if let Some(id) = otlp::span_id(span) {
        return id;
    }
    let _ = span;
    SpanId::from_random(random)
}
