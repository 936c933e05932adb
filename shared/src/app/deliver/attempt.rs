//! One job's attempt: claim the delivery (claim.rs), shape it (transform.rs), send it
//! signed, and decide what follows (conclusion.rs). An ordered job's attempts live in its
//! claim (its FIFO message never changes), so it resumes from there, and a retry pauses
//! the claim with them and holds the message.

use chrono::{DateTime, Utc};

use super::attempted::Attempted;
use super::claim::take_up;
use super::conclusion::conclude;
use super::transform::{shape, with_added, Shapen};
use super::{Taken, Worker};
use crate::domain::endpoint::Endpoint;
use crate::domain::outcome::{classify, decide};
use crate::domain::retry::Jitter;
use crate::domain::trace::TraceParent;
use crate::domain::webhook;
use crate::ports::OutgoingRequest;

/// Sends one job on its own: its claim, its POST, its outcome.
pub(super) async fn attempt(
    worker: &Worker,
    endpoint: &Endpoint,
    taken: Taken,
    recovered_at: Option<DateTime<Utc>>,
) -> Attempted {
    let ready = match take_up(worker, endpoint, taken, recovered_at).await {
        Ok(ready) => ready,
        Err(done) => return done,
    };
    let Shapen {
        ready,
        body,
        headers: added,
    } = match shape(worker, endpoint, ready).await {
        Ok(shapen) => shapen,
        Err(done) => return done,
    };
    let now = worker.clock.now();
    let number = ready.job.attempts + 1;
    // The `deliver` span this runs in (line.rs): the receiver's parent is this attempt.
    let span = tracing::Span::current();
    // As i64: exporters send u64 fields as text.
    span.record("attempt", i64::from(number));
    let trace = child_trace(worker, &span, ready.job.trace.as_ref());
    let signed = webhook::Signed {
        id: ready.job.event.id.as_str(),
        event_type: ready.job.event.event_type.as_str(),
    };
    let request = OutgoingRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: with_added(
            added,
            webhook::headers(endpoint, signed, number, &body, now, trace.as_ref()),
        ),
        body,
        timeout: endpoint.timeout(),
    };
    let sent = worker.sender.send(request).await;
    let finished = worker.clock.now();
    let verdict = classify(&sent.result, finished);
    let jitter = Jitter::from_unit(worker.entropy.unit());
    let decision = decide(verdict, &endpoint.retry, number, jitter);
    let message_id = ready.message_id.clone();
    let (entry, follow_up) = conclude(worker, ready, &sent, now, decision).await;
    Attempted::Sent {
        message_id,
        success: verdict.is_success(),
        counted: true,
        latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
        entry,
        follow_up: Box::new(follow_up),
    }
}

/// The attempt's child of a job's trace context, as the receiver's parent.
pub(super) fn child_trace(
    worker: &Worker,
    span: &tracing::Span,
    trace: Option<&TraceParent>,
) -> Option<TraceParent> {
    trace.map(|trace| {
        let random = worker.entropy.u128() as u64;
        trace.child(crate::telemetry::span_id(span, random))
    })
}
