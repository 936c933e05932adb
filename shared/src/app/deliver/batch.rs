//! A batching endpoint's POSTs (docs/architecture.md §3.15). Each POST's jobs are claimed
//! (an ordered subject's one after the other, stopping at the first that may not go), sent
//! as one request signed once under the batch's id, and each job's outcome decided by its
//! own attempts under one jitter; the jobs a POST retries go back to the queue in one
//! message, so the batch is retried as it was sent and keeps its `webhook-id`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use tracing::Instrument;

use super::attempt::child_trace;
use super::attempted::Attempted;
use super::claim::{take_up, Ready};
use super::conclusion::conclude;
use super::transform::{shape, Shapen};
use super::{line, FollowUp, Taken, Worker};
use crate::domain::batch::{self, carried_size, MAX_CARRIED_BYTES};
use crate::domain::delivery::{later, schedule, DeliveryJob, MAX_QUEUE_DELAY};
use crate::domain::endpoint::Endpoint;
use crate::domain::outcome::{classify, decide};
use crate::domain::retry::Jitter;
use crate::domain::webhook;
use crate::ports::{Enqueue, IdempotencyKey, OutgoingRequest};

/// Every POST's jobs' outcomes. `recovered_at` as for lines.
pub(super) async fn run(
    worker: &Worker,
    endpoint: &Endpoint,
    posts: Vec<Vec<Taken>>,
    recovered_at: Option<DateTime<Utc>>,
) -> Vec<Attempted> {
    let posts = posts
        .into_iter()
        .map(|jobs| post(worker, endpoint, jobs, recovered_at));
    join_all(posts).await.into_iter().flatten().collect()
}

async fn post(
    worker: &Worker,
    endpoint: &Endpoint,
    jobs: Vec<Taken>,
    recovered_at: Option<DateTime<Utc>>,
) -> Vec<Attempted> {
    let lines = line::split(jobs)
        .into_iter()
        .map(|jobs| claim_line(worker, endpoint, jobs, recovered_at));
    let mut out = Vec::new();
    let mut ready = Vec::new();
    for (taken_up, not_sent) in join_all(lines).await {
        ready.extend(taken_up);
        out.extend(not_sent);
    }
    // Each event as the endpoint's transformation shapes it; those it cancels or fails on
    // leave the batch before its id is made, so a retry of the rest carries the same id.
    let mut shaped = Vec::with_capacity(ready.len());
    for shaping in join_all(ready.into_iter().map(|r| shape(worker, endpoint, r))).await {
        match shaping {
            Ok(shapen) => shaped.push(shapen),
            Err(done) => out.push(done),
        }
    }
    if shaped.is_empty() {
        return out;
    }
    let id = batch::batch_id(shaped.iter().map(|s| &s.ready.job.delivery_id));
    let span = tracing::info_span!(
        "deliver",
        batch_id = %id,
        endpoint_id = %endpoint.id,
        events = shaped.len(),
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    // A request has one parent: the first traced job's.
    if let Some(trace) = shaped.iter().find_map(|s| s.ready.job.trace.as_ref()) {
        crate::telemetry::follow(&span, trace);
    }
    out.extend(send(worker, endpoint, shaped, &id).instrument(span).await);
    out
}

/// Claims a line's jobs in order: those to send, and what became of the rest. Once one
/// may not go (claimed elsewhere, not due), neither may any behind it.
async fn claim_line(
    worker: &Worker,
    endpoint: &Endpoint,
    jobs: Vec<Taken>,
    recovered_at: Option<DateTime<Utc>>,
) -> (Vec<Ready>, Vec<Attempted>) {
    let (mut ready, mut out) = (Vec::new(), Vec::new());
    let mut open = true;
    for taken in jobs {
        if !open {
            out.push(line::behind(taken));
            continue;
        }
        match take_up(worker, endpoint, taken, recovered_at).await {
            Ok(taken_up) => ready.push(taken_up),
            Err(done) => {
                open = done.lets_line_go_on();
                out.push(done);
            }
        }
    }
    (ready, out)
}

/// One POST of `shaped` jobs (a batch's request carries no one event's added headers).
async fn send(
    worker: &Worker,
    endpoint: &Endpoint,
    shaped: Vec<Shapen>,
    id: &str,
) -> Vec<Attempted> {
    let mut out = Vec::with_capacity(shaped.len());
    let (ready, bodies): (Vec<Ready>, Vec<Vec<u8>>) =
        shaped.into_iter().map(|s| (s.ready, s.body)).unzip();
    let now = worker.clock.now();
    let number = ready.iter().map(|r| r.job.attempts + 1).max().unwrap_or(1);
    let span = tracing::Span::current();
    span.record("attempt", i64::from(number));
    let trace = child_trace(
        worker,
        &span,
        ready.iter().find_map(|r| r.job.trace.as_ref()),
    );
    let body = batch::body(bodies.iter().map(Vec::as_slice));
    let signed = webhook::Signed {
        id,
        event_type: batch::EVENT_TYPE,
    };
    let request = OutgoingRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: webhook::headers(endpoint, signed, number, &body, now, trace.as_ref()),
        body,
        timeout: endpoint.timeout(),
    };
    let sent = worker.sender.send(request).await;
    let verdict = classify(&sent.result, worker.clock.now());
    let jitter = Jitter::from_unit(worker.entropy.unit());
    let latency_ms = u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX);
    for (n, taken_up) in ready.into_iter().enumerate() {
        // Each job by its own count: one that joined late is not given up with the rest.
        let decision = decide(verdict, &endpoint.retry, taken_up.job.attempts + 1, jitter);
        let message_id = taken_up.message_id.clone();
        let (entry, follow_up) = conclude(worker, taken_up, &sent, now, decision).await;
        out.push(Attempted::Sent {
            message_id,
            success: verdict.is_success(),
            counted: n == 0,
            latency_ms,
            entry,
            follow_up: Box::new(follow_up),
        });
    }
    retry_together(out, worker.clock.now())
}

/// The POST's unordered retries, each re-enqueued on its own by `conclude`, made one
/// message again, due when the soonest of them is.
fn retry_together(mut out: Vec<Attempted>, now: DateTime<Utc>) -> Vec<Attempted> {
    let at: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, done)| {
            matches!(done, Attempted::Sent { follow_up, .. } if matches!(**follow_up, FollowUp::Enqueue { .. }))
        })
        .map(|(n, _)| n)
        .collect();
    if at.len() < 2 {
        return out;
    }
    let (mut members, mut due) = (Vec::new(), None::<DateTime<Utc>>);
    for &n in &at {
        if let Some(Attempted::Sent { follow_up, .. }) = out.get_mut(n) {
            if let FollowUp::Enqueue { enqueue, claim } =
                std::mem::replace(&mut **follow_up, FollowUp::Done)
            {
                let its_due = enqueue
                    .job
                    .not_before
                    .unwrap_or_else(|| later(now, enqueue.delay));
                due = Some(due.map_or(its_due, |due| due.min(its_due)));
                members.push((enqueue.job, claim));
            }
        }
    }
    let Some(due) = due else {
        return out;
    };
    for (n, follow_up) in at.into_iter().zip(together(members, due, now)) {
        if let Some(Attempted::Sent {
            follow_up: slot, ..
        }) = out.get_mut(n)
        {
            **slot = follow_up;
        }
    }
    out
}

/// Follow-ups that send unordered `jobs` back to the queue in as few messages as fit, due
/// at `due`, one per job in order: each message's first job carries the message
/// (`Enqueue`), the others go `Along` with it. `claim`: each job's claim to release should
/// the enqueue fail.
pub(super) fn together(
    jobs: impl IntoIterator<Item = (DeliveryJob, Option<(IdempotencyKey, u64)>)>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<FollowUp> {
    // To the millisecond where the queue can wait that long (the SQS adapter rounds up to
    // whole seconds; memory waits exactly), so a 300 ms wait is 300 ms in local mode.
    let (delay, not_before) = match (due - now).to_std() {
        Ok(wait) if wait <= MAX_QUEUE_DELAY => (wait, None),
        Ok(_) => schedule(due, now),
        Err(_) => (Duration::ZERO, None),
    };
    let mut follow_ups = Vec::new();
    let (mut jobs_in_order, mut claims_in_order) = (Vec::new(), Vec::new());
    for (mut job, claim) in jobs {
        job.not_before = None;
        jobs_in_order.push(job);
        claims_in_order.push(claim);
    }
    // One job carrying nothing is its own message: nothing to measure (every deferral of a
    // lone job comes through here).
    let lone = match jobs_in_order.as_slice() {
        [] => true,
        [job] => job.gathered.is_empty(),
        _ => false,
    };
    let carried = if lone {
        jobs_in_order
    } else {
        DeliveryJob::carried(jobs_in_order, carried_size, MAX_CARRIED_BYTES)
    };
    let mut claims = claims_in_order.into_iter();
    for mut message in carried {
        message.not_before = not_before;
        let riders = message.gathered.len();
        follow_ups.push(FollowUp::Enqueue {
            enqueue: Enqueue {
                job: message,
                delay,
            },
            claim: claims.next().flatten(),
        });
        for _ in 0..riders {
            follow_ups.push(FollowUp::Along {
                claim: claims.next().flatten(),
            });
        }
    }
    follow_ups
}
