//! An endpoint's transformation applied to a claimed job before it is signed (§3.17): the
//! body and extra headers to send, or — nothing to send — the job done (cancelled by the
//! script) or given up on (the script failed: it would fail the same way on every retry,
//! so the delivery is recorded as failed at once, to be replayed once the script is fixed).
//! Neither counts for or against the receiver's circuit: the receiver was not called.

use std::time::Duration;

use super::attempted::Attempted;
use super::claim::Ready;
use super::conclusion::conclude;
use super::Worker;
use crate::domain::endpoint::Endpoint;
use crate::domain::outcome::{AttemptResult, Decision, FailureReason, TransportFailure};
use crate::domain::transform::{input, shaped, Shaped};
use crate::ports::SendReport;

/// The headers of a request whose transformation added `added`: those, then `ours` but
/// for the names the script set (its value wins over the endpoint's fixed one; the names
/// authhooks sets cannot be among them, `domain::transform` refuses them).
pub(super) fn with_added(
    added: Vec<(String, String)>,
    ours: Vec<(String, String)>,
) -> Vec<(String, String)> {
    if added.is_empty() {
        return ours;
    }
    let mut headers = added;
    let set: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    headers.extend(ours.into_iter().filter(|(n, _)| !set.contains(n)));
    headers
}

/// A claimed job ready to go: its body and the headers its transformation added.
pub(super) struct Shapen {
    pub(super) ready: Ready,
    pub(super) body: Vec<u8>,
    pub(super) headers: Vec<(String, String)>,
}

/// The job's body as the endpoint wants it, or what became of a job with nothing to send.
pub(super) async fn shape(
    worker: &Worker,
    endpoint: &Endpoint,
    ready: Ready,
) -> Result<Shapen, Attempted> {
    let Some(script) = &endpoint.transform else {
        let body = ready.job.event.to_body();
        return Ok(Shapen {
            ready,
            body,
            headers: Vec::new(),
        });
    };
    // The event's own time as the script's clock: every attempt sees the same input.
    let run = worker
        .scripts
        .run(
            script,
            input(&ready.job.event, endpoint),
            ready.job.event.timestamp,
        )
        .await;
    let answer = match run {
        Ok(run) => shaped(run.output.as_deref(), &endpoint.signing),
        // Not attempted: the message comes back after its visibility timeout, when the
        // claim's lease has lapsed.
        Err(failure) if failure.busy => {
            tracing::warn!(delivery_id = %ready.job.delivery_id, "transformation not run: script runners busy");
            return Err(Attempted::Failed(ready.message_id));
        }
        Err(failure) => Err(failure.message),
    };
    match answer {
        Ok(Shaped::Send { body, headers }) => Ok(Shapen {
            ready,
            body,
            headers,
        }),
        Ok(Shaped::Cancel) => Err(cancelled(worker, ready).await),
        Err(error) => Err(failed(worker, ready, error).await),
    }
}

/// Nothing to send, by the script's choice: the delivery is complete as it stands.
async fn cancelled(worker: &Worker, ready: Ready) -> Attempted {
    let Ready {
        message_id,
        job,
        key,
        claim,
        ..
    } = ready;
    // Done either way; a lost completion only means the script runs again on a copy.
    let _ = worker
        .idempotency
        .complete(&key, claim.token, &job.history, claim.expires_at)
        .await;
    tracing::info!(event_id = %job.event.id, delivery_id = %job.delivery_id, endpoint_id = %job.endpoint_id, "cancelled by the endpoint's transformation; nothing sent");
    Attempted::Skipped(message_id)
}

/// The script failed: recorded as an attempt that reached no receiver, and given up on.
async fn failed(worker: &Worker, ready: Ready, error: String) -> Attempted {
    let message_id = ready.message_id.clone();
    let report = SendReport {
        result: AttemptResult::Transport(TransportFailure::Other(format!(
            "transformation failed: {error}"
        ))),
        latency: Duration::ZERO,
    };
    let now = worker.clock.now();
    let decision = Decision::GiveUp(FailureReason::TransformFailed);
    let (entry, follow_up) = conclude(worker, ready, &report, now, decision).await;
    Attempted::Sent {
        message_id,
        success: false,
        counted: false,
        latency_ms: 0,
        entry,
        follow_up: Box::new(follow_up),
    }
}
