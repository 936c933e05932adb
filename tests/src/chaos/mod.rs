//! The chaos harness: the whole pipeline (ingest router, deliveries queues, workers, DLQ
//! recorder) in one process over local mode's pieces, delivering to fault-injecting
//! receivers on 127.0.0.1 while workers are killed mid-batch, jobs are queued twice and
//! the workers' own re-enqueues and dead letters fail now and then; at the end every
//! accepted delivery must be delivered or recorded as failed, nothing sent more often
//! than what the harness did explains, and every subject's changes received by an ordered
//! endpoint in the order they were accepted.

pub mod causes;
mod display;
pub mod faults;
mod in_hand;
mod ingest;
mod order;
mod pool;
pub mod receiver;
mod run;
mod tally;
pub mod world;

use std::time::Duration;

use serde_json::{json, Value};

use authhooks::ports::PortError;

pub use run::run;
pub use tally::{ChaosReport, EndpointRow};
pub use world::QueueTuning;

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("setting up: {0}")]
    Setup(String),
    #[error("a dependency failed: {0}")]
    Port(#[from] PortError),
    #[error("ingest refused a batch: {0}")]
    Ingest(String),
}

/// Where the queues and tables live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Memory,
    /// An SQS/DynamoDB API (moto), with fresh tables and queues named from `prefix`.
    Aws {
        url: String,
        prefix: String,
    },
}

#[derive(Debug, Clone)]
pub struct ChaosConfig {
    pub backend: Backend,
    pub events: usize,
    /// Distinct subjects: event `i` is about `u_{i % subjects}`, so each subject changes
    /// `events / subjects` times, one change per ingest batch at most (0: a subject each).
    pub subjects: usize,
    /// Flaky endpoints; one dead endpoint is always added. Every other one is ordered by
    /// subject (the first among them), the others unordered; the dead one is ordered.
    pub endpoints: usize,
    pub seed: u64,
    /// Share of a flaky endpoint's early attempts that fail (5xx, 429, timeout, reset).
    pub fault_rate: f64,
    /// How often a worker task is aborted and replaced (`None`: never).
    pub kill_every: Option<Duration>,
    /// Share of enqueued jobs sent to the queue twice.
    pub duplicate_rate: f64,
    /// Share of the workers' re-enqueue calls that fail (ingest's never do).
    pub enqueue_error_rate: f64,
    /// Share of the workers' dead-letter calls that fail.
    pub dead_letter_error_rate: f64,
    /// Every n-th ingest batch is posted again n batches later (0: never); deliveries under
    /// way by then make it a duplicate, the rest are enqueued again and sent once.
    pub repost_every: usize,
    pub workers: usize,
    pub timeout_ms: u64,
    pub claim_margin: Duration,
    pub queue: QueueTuning,
    /// Ingest waits while more messages than this are queued (memory only).
    pub max_backlog: usize,
    /// One event in this many is of the type only the dead endpoint (and `*`) takes.
    pub dead_every: usize,
    /// The run gives up and reports what it has after this long.
    pub deadline: Duration,
    /// Print the queue backlog to stderr every few seconds.
    pub progress: bool,
}

impl ChaosConfig {
    /// The CI setting: every fault kind, a few thousand events, well under a minute here.
    pub fn ci(events: usize) -> Self {
        Self {
            backend: Backend::Memory,
            events,
            subjects: (events / 10).max(1),
            endpoints: 5,
            seed: 42,
            fault_rate: 0.2,
            kill_every: Some(Duration::from_millis(400)),
            duplicate_rate: 0.05,
            enqueue_error_rate: 0.05,
            // The dead endpoint's twenty deliveries make only a handful of dead-letter
            // calls: a fifth of them fail, so that every CI run takes that path.
            dead_letter_error_rate: 0.2,
            repost_every: 7,
            workers: 8,
            // A new connection costs a few milliseconds of CPU in a debug build; with tens
            // of them at once a tighter timeout would time out healthy receivers.
            timeout_ms: 1_000,
            claim_margin: Duration::from_millis(500),
            queue: QueueTuning {
                visibility: Duration::from_secs(4),
                max_receive_count: 10,
            },
            max_backlog: 4_000,
            dead_every: 50,
            deadline: Duration::from_secs(300),
            progress: false,
        }
    }
}

/// The event types produced, and the dead endpoint's own.
pub const EVENT_TYPES: [&str; 7] = [
    "user.created",
    "user.updated",
    "user.deleted",
    "session.created",
    "session.revoked",
    "oauth_client.rotated",
    "api_key.created",
];
pub const DEAD_TYPE: &str = "api_key.revoked";

/// What the `j`-th flaky endpoint subscribes to.
pub fn subscription(j: usize) -> Vec<&'static str> {
    match j % 6 {
        0 | 4 => vec!["*"],
        1 => vec!["user.*"],
        2 => vec!["session.*", "api_key.*"],
        3 => vec!["user.created", "user.deleted", "oauth_client.*"],
        _ => vec!["session.revoked", "user.updated"],
    }
}

/// Whether a subscription takes an event type: an oracle written apart from the domain's
/// filter, so ingest's fan-out is checked rather than trusted.
pub fn subscribes(patterns: &[&str], event_type: &str) -> bool {
    patterns.iter().any(|p| {
        *p == "*"
            || *p == event_type
            || p.strip_suffix('*')
                .is_some_and(|prefix| event_type.starts_with(prefix))
    })
}

/// Whether the `j`-th flaky endpoint is ordered by subject (the dead one always is).
pub fn ordered(j: usize) -> bool {
    j.is_multiple_of(2)
}

/// The subject of the `i`-th event.
pub fn subject(i: usize, subjects: usize) -> String {
    format!("u_{}", if subjects == 0 { i } else { i % subjects })
}

/// The index of an event from its id (see [`event_id`]), its place in acceptance order:
/// the harness posts events in index order, each batch after the last was answered.
pub fn event_index(id: &str) -> Option<usize> {
    id.rsplit('_').next()?.parse().ok()
}

/// The admin-API body of the `j`-th flaky endpoint. Every schedule allows more attempts
/// than [`faults::LAST_FAULTY_ATTEMPT`], with delays of a second or two.
pub fn flaky_spec(j: usize, url: &str, secret: &str, timeout_ms: u64) -> Value {
    let retry = if j.is_multiple_of(2) {
        json!({"schedule_secs": [0, 1, 1, 1, 1, 1, 2, 2]})
    } else {
        json!({"initial_delay_ms": 200, "backoff_multiplier": 2.0, "max_delay_ms": 2000, "max_retries": 8})
    };
    let rate_limit = if j == 1 {
        json!({"requests_per_second": 1000, "burst_size": 100})
    } else {
        Value::Null
    };
    json!({
        "url": url, "secret": secret, "event_types": subscription(j), "timeout_ms": timeout_ms,
        "retry": retry, "rate_limit": rate_limit,
        "circuit": {"failure_threshold": 8, "success_threshold": 1, "open_timeout_secs": 1, "half_open_max_requests": 50},
        "ordering": if ordered(j) { "subject" } else { "none" },
        "description": format!("chaos flaky {j}")
    })
}

/// Attempts the dead endpoint's schedule allows a delivery: the first and two retries.
pub const DEAD_ATTEMPTS: u64 = 3;

/// The dead endpoint: two quick retries, then the DLQ. Its circuit threshold is high so
/// that its failures are not drawn out over many open periods.
pub fn dead_spec(url: &str, secret: &str, timeout_ms: u64) -> Value {
    json!({
        "url": url, "secret": secret, "event_types": [DEAD_TYPE], "timeout_ms": timeout_ms,
        "retry": {"schedule_secs": [0, 1]},
        "circuit": {"failure_threshold": 1000, "success_threshold": 1, "open_timeout_secs": 1, "half_open_max_requests": 100},
        "ordering": "subject",
        "description": "chaos dead"
    })
}

/// The type of the `i`-th event: the dead endpoint's every `dead_every`-th, else spread
/// over [`EVENT_TYPES`] by hash.
pub fn event_type(seed: u64, i: usize, dead_every: usize) -> &'static str {
    if dead_every > 0 && i.is_multiple_of(dead_every) {
        return DEAD_TYPE;
    }
    let h = faults::mix(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    EVENT_TYPES[usize::try_from(h % EVENT_TYPES.len() as u64).unwrap_or(0)]
}

pub fn event_id(seed: u64, i: usize) -> String {
    format!("evt_chaos_{seed}_{i}")
}
