//! Fan-out of one event to many endpoints, bounded. Up to a threshold, ingest enqueues a job
//! per endpoint itself; above it, ingest enqueues one fan-out task and workers expand it a
//! page of endpoints at a time, each page's jobs and the task for the next page sent before
//! the page's message is acknowledged. So no request and no batch handles more than a page
//! or the threshold, whatever the number of endpoints, and a crash anywhere re-expands a
//! page whose deliveries' ids make each one send once.
//!
//! Ordered deliveries keep their order: a subject's deliveries to an endpoint must be
//! enqueued in the order ingest accepted them. So once a deployment has more ordered
//! endpoints than the threshold, every event's ordered deliveries go through tasks on the
//! ordered (FIFO) queue, one per *partition* of the endpoints (a stable hash of the endpoint
//! id), in a line of the subject and partition: the tasks of one subject and partition are
//! expanded one after the other, and every endpoint is in exactly one partition, so each
//! endpoint's line receives the subject's deliveries in order. Below that many, ingest
//! enqueues them itself. Only when the number of ordered endpoints crosses the threshold can
//! the deliveries of a subject in flight at that moment overtake each other (their
//! `sequence` still tells receivers which is newer).

use std::time::Duration;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use sha2::{Digest, Sha256};

use super::delivery::DeliveryJob;
use super::endpoint::Endpoint;
use super::event::Event;
use super::ids::EndpointId;
use super::order::OrderKey;
use super::trace::TraceParent;

/// The most deliveries of one event ingest enqueues itself before it hands the rest to a
/// fan-out task: within one request's time (ten messages a call) and one Lambda's memory.
pub const DEFAULT_INLINE_MAX: usize = 200;
/// Endpoints one step of a fan-out covers.
pub const DEFAULT_PAGE: usize = 100;
/// Jobs waiting on a queue that can tell (local mode's, in memory) above which a fan-out
/// waits instead of adding a page: otherwise a million queued jobs would sit in memory.
pub const DEFAULT_MAX_BACKLOG: usize = 20_000;
/// Partitions of the ordered endpoints: at most this many ordered tasks per event, and one
/// task covers about 1/16 of the ordered endpoints.
pub const DEFAULT_PARTITIONS: u16 = 16;
/// How long a fan-out waits for the backlog to drain before it looks again.
pub const BACKLOG_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOutSettings {
    /// See [`DEFAULT_INLINE_MAX`].
    pub inline_max: usize,
    /// See [`DEFAULT_PAGE`].
    pub page: usize,
    /// See [`DEFAULT_MAX_BACKLOG`].
    pub max_backlog: usize,
    /// See [`DEFAULT_PARTITIONS`].
    pub partitions: u16,
}

impl Default for FanOutSettings {
    fn default() -> Self {
        Self {
            inline_max: DEFAULT_INLINE_MAX,
            page: DEFAULT_PAGE,
            max_backlog: DEFAULT_MAX_BACKLOG,
            partitions: DEFAULT_PARTITIONS,
        }
    }
}

/// Deliver `event` to its ordered endpoints of one partition at once, or to every endpoint
/// it goes to without order from the one after `after` on, a page at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanOutTask {
    pub event: Event,
    /// The partition of ordered endpoints this task covers (on the ordered queue); none for
    /// the unordered deliveries (on the standard queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u16>,
    /// Where the unordered task's next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<EndpointId>,
    /// The producer's trace context, for every job the task makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceParent>,
}

impl FanOutTask {
    /// The line an ordered task waits in on the FIFO queue: its partition's, of its subject
    /// (none for the unordered task, or an event without a subject, which has no order).
    pub fn line(&self) -> Option<OrderKey> {
        let partition = self.partition?;
        let subject = self.event.subject.as_deref()?;
        Some(OrderKey::fan_out(
            partition,
            self.event.tenant_id.as_deref(),
            subject,
        ))
    }

    /// Its deduplication id on the FIFO queue: one task per event and partition.
    pub fn dedup_id(&self) -> String {
        match self.partition {
            Some(p) => format!("{}.p{p}", self.event.id),
            None => format!("{}.all", self.event.id),
        }
    }

    /// Whether this task delivers `event` to `endpoint`.
    pub fn covers(&self, endpoint: &Endpoint, partitions: u16) -> bool {
        match self.partition {
            Some(p) => {
                is_ordered(endpoint, &self.event) && partition(&endpoint.id, partitions) == p
            }
            None => !is_ordered(endpoint, &self.event),
        }
    }
}

/// An endpoint's partition: a stable hash of its id, so it is the same in every process.
pub fn partition(endpoint: &EndpointId, partitions: u16) -> u16 {
    let digest = Sha256::digest(endpoint.as_str().as_bytes());
    u16::from_be_bytes([digest[0], digest[1]]) % partitions.max(1)
}

/// A fan-out task as a message body, `{"fan_out": {...}}`: its one key tells it apart from a
/// delivery job on the same queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanOutMessage {
    pub fan_out: FanOutTask,
}

/// What a message on the deliveries queue asks of a worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Deliver(DeliveryJob),
    FanOut(FanOutTask),
}

/// Read from the JSON text itself, by the `fan_out` key: `#[serde(untagged)]` would buffer
/// the body first, and an event's raw `data` cannot be read from a buffer.
impl<'de> Deserialize<'de> for Work {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Peek {
            #[serde(default)]
            fan_out: Option<IgnoredAny>,
        }
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let peek: Peek = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        if peek.fan_out.is_some() {
            serde_json::from_str::<FanOutMessage>(raw.get())
                .map(|m| Self::FanOut(m.fan_out))
                .map_err(serde::de::Error::custom)
        } else {
            serde_json::from_str(raw.get())
                .map(Self::Deliver)
                .map_err(serde::de::Error::custom)
        }
    }
}

/// Whether `event`'s delivery to `endpoint` waits in a line.
fn is_ordered(endpoint: &Endpoint, event: &Event) -> bool {
    endpoint.order_key(event).is_some()
}

/// How ingest sends one event's deliveries.
#[derive(Debug, PartialEq)]
pub struct Plan<'a> {
    /// Enqueued by ingest itself.
    pub inline: Vec<&'a Endpoint>,
    /// The rest, left to these tasks.
    pub tasks: Vec<FanOutTask>,
}

/// `targets` (in id order) split between ingest and tasks: the unordered deliveries inline
/// up to `inline_max`, one task above it; the ordered ones inline while the deployment has
/// no more than `inline_max` ordered endpoints (`ordered_endpoints`), else a task for each
/// partition they fall in.
pub fn plan<'a>(
    targets: Vec<&'a Endpoint>,
    event: &Event,
    ordered_endpoints: usize,
    settings: &FanOutSettings,
) -> Plan<'a> {
    let (ordered, unordered): (Vec<&Endpoint>, Vec<&Endpoint>) = targets
        .into_iter()
        .partition(|endpoint| is_ordered(endpoint, event));
    let mut plan = Plan {
        inline: Vec::new(),
        tasks: Vec::new(),
    };
    if ordered_endpoints > settings.inline_max {
        let mut partitions: Vec<u16> = ordered
            .iter()
            .map(|endpoint| partition(&endpoint.id, settings.partitions))
            .collect();
        partitions.sort_unstable();
        partitions.dedup();
        plan.tasks
            .extend(partitions.into_iter().map(|p| FanOutTask {
                event: event.clone(),
                partition: Some(p),
                after: None,
                trace: None,
            }));
    } else {
        plan.inline.extend(ordered);
    }
    if unordered.len() > settings.inline_max {
        plan.tasks.push(FanOutTask {
            event: event.clone(),
            partition: None,
            after: None,
            trace: None,
        });
    } else {
        plan.inline.extend(unordered);
    }
    plan.inline.sort_by(|a, b| a.id.cmp(&b.id));
    plan
}

/// One page of a fan-out over `targets` (in id order): up to `page` endpoints after `after`,
/// and where the next page starts if any is left.
pub fn page<'a, 'b>(
    targets: &'b [&'a Endpoint],
    after: Option<&EndpointId>,
    page: usize,
) -> (&'b [&'a Endpoint], Option<EndpointId>) {
    let start = after.map_or(0, |after| targets.partition_point(|e| e.id <= *after));
    let end = start.saturating_add(page.max(1)).min(targets.len());
    let this = targets.get(start..end).unwrap_or_default();
    let next = (end < targets.len())
        .then(|| this.last().map(|e| e.id.clone()))
        .flatten();
    (this, next)
}

/// Whether a fan-out adds its next page now or waits for the queue to drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Expand,
    Wait(Duration),
}

/// `backlog`: the jobs waiting on the deliveries queue, where the queue can say.
pub fn step(backlog: Option<usize>, max_backlog: usize) -> Step {
    match backlog {
        Some(waiting) if waiting >= max_backlog => Step::Wait(BACKLOG_WAIT),
        _ => Step::Expand,
    }
}

#[cfg(test)]
mod tests;
