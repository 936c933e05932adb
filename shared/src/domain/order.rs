//! Ordered delivery per subject: which deliveries queue behind each other (an endpoint's
//! `ordering`, a job's [`OrderKey`]), the per-event `sequence` ingest stamps in acceptance
//! order, and the check a receiver runs to drop a stale update ([`freshness`]).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::EndpointId;
use super::time::later;

/// Whether an endpoint receives each subject's events in the order ingest accepted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOrder {
    /// Deliveries of one subject (within a tenant) reach the endpoint one after the other,
    /// in acceptance order; different subjects never wait for each other. What new
    /// endpoints get: sync correctness is the product.
    Subject,
    /// No order: every delivery goes as soon as it can, for raw throughput. What an endpoint
    /// stored before `ordering` existed loads as, so an upgrade changes no endpoint's
    /// behaviour.
    #[default]
    None,
}

impl DeliveryOrder {
    /// The default for an endpoint created without `ordering`.
    pub const FOR_NEW_ENDPOINTS: Self = Self::Subject;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "subject" => Ok(Self::Subject),
            "none" => Ok(Self::None),
            other => Err(format!(
                "must be \"subject\" or \"none\", not {}",
                serde_json::Value::String(other.to_owned())
            )),
        }
    }
}

impl fmt::Display for DeliveryOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The line a delivery waits in: one endpoint and one subject within one tenant. It is the
/// SQS FIFO `MessageGroupId`, so it is short and plain (≤ 128 printable ASCII characters)
/// whatever the subject holds: the endpoint id, then a hash of tenant and subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderKey(String);

impl OrderKey {
    /// The key of `subject` (in `tenant`, if any) at `endpoint`.
    pub fn new(endpoint: &EndpointId, tenant: Option<&str>, subject: &str) -> Self {
        Self(format!("{endpoint}:{}", subject_hash(tenant, subject)))
    }

    /// The line of fan-out tasks for `subject`'s ordered deliveries to one partition of the
    /// endpoints (`domain::fanout`). `#` is in no endpoint id, so no endpoint's line is it.
    pub fn fan_out(partition: u16, tenant: Option<&str>, subject: &str) -> Self {
        Self(format!(
            "#fanout{partition}:{}",
            subject_hash(tenant, subject)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 32 hex digits naming a subject within a tenant.
fn subject_hash(tenant: Option<&str>, subject: &str) -> String {
    // The tenant goes in with a tag and its length, so no two (tenant, subject) pairs can be
    // made to collide by moving characters from one into the other.
    let mut hash = Sha256::new();
    match tenant {
        Some(tenant) => {
            hash.update([1u8]);
            hash.update((tenant.len() as u64).to_le_bytes());
            hash.update(tenant.as_bytes());
        }
        None => hash.update([0u8]),
    }
    hash.update(subject.as_bytes());
    let digest = hash.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest one hold of an ordered message may be: SQS counts at most 12 hours of
/// invisibility from a receive; a little is left for the time between the receive and the
/// hold.
pub const MAX_HOLD: Duration = Duration::from_secs(12 * 3600 - 300);

/// How an ordered job waits `wait` from `now` in place: the hold to put on its message,
/// and, when the wait is longer than one hold can be, the time it is due (kept with its
/// claim, since its message cannot carry it), as [`schedule`](super::delivery::schedule)
/// does for a re-enqueued job.
pub fn hold_for(wait: Duration, now: DateTime<Utc>) -> (Duration, Option<DateTime<Utc>>) {
    if wait > MAX_HOLD {
        (MAX_HOLD, Some(later(now, wait)))
    } else {
        (wait, None)
    }
}

/// The longest an ordered job held back by its endpoint's open circuit waits between looks:
/// what a line may wait after its endpoint recovers.
pub const MAX_DEFERRAL_HOLD: Duration = Duration::from_secs(15 * 60);

/// How long to hold an ordered job that its endpoint's circuit deferred until `wanted` from
/// now, the circuit having been open for `outage`. Each hold is a receive, and the ordered
/// queue redrives a message after 1 000, so a job waiting out a long outage holds for a
/// tenth of the outage so far (up to fifteen minutes): its looks thin out as the outage
/// lasts — about 600 over the five days after which an open circuit disables its endpoint
/// — while a circuit that just opened is looked at again as soon as it may let a probe by.
pub fn deferral_hold(wanted: Duration, outage: Duration) -> Duration {
    wanted.max((outage / 10).min(MAX_DEFERRAL_HOLD))
}

/// The sequence ingest stamps on the next event it accepts: its acceptance time in
/// microseconds since the epoch, and always above the last one stamped (`last`), so one
/// ingest's events of a subject strictly increase even within a microsecond or a clock
/// step backwards. Different ingest instances agree as far as their clocks do (Lambda's
/// are kept within a millisecond by Amazon Time Sync), which orders any two submissions of
/// a subject where one was answered before the other was sent.
pub fn next_sequence(last: u64, now: DateTime<Utc>) -> u64 {
    let micros = u64::try_from(now.timestamp_micros()).unwrap_or(0);
    micros.max(last.saturating_add(1))
}

/// What a receiver should do with an event, given the highest `sequence` it has applied
/// for the event's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Newer than anything applied: apply it, then remember its sequence.
    New,
    /// The same sequence as the last applied: a redelivery; acknowledge and skip.
    Duplicate,
    /// Older than what was applied (a replay, or an unordered endpoint's late delivery):
    /// acknowledge and skip, or the stale update would win.
    Stale,
}

/// The stale-update check: `last_applied` is the highest sequence applied for the
/// subject (`None`: nothing yet), `incoming` the event's.
pub fn freshness(last_applied: Option<u64>, incoming: u64) -> Freshness {
    match last_applied {
        Some(last) if incoming < last => Freshness::Stale,
        Some(last) if incoming == last => Freshness::Duplicate,
        _ => Freshness::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ep(id: &str) -> EndpointId {
        EndpointId::parse(id).unwrap()
    }

    #[test]
    fn order_keys_are_plain_short_and_separate_tenant_from_subject() {
        let key = OrderKey::new(&ep("ep_1"), Some("acme"), "user_1");
        assert!(key.as_str().starts_with("ep_1:"));
        assert!(key.as_str().len() <= 128);
        assert!(key.as_str().bytes().all(|b| b.is_ascii_graphic()));
        let long = "ü".repeat(256);
        assert!(OrderKey::new(&ep("ep_1"), None, &long).as_str().len() <= 128);
        // Same subject, different tenants or endpoints: different lines.
        assert_ne!(key, OrderKey::new(&ep("ep_1"), Some("other"), "user_1"));
        assert_ne!(key, OrderKey::new(&ep("ep_1"), None, "user_1"));
        assert_ne!(key, OrderKey::new(&ep("ep_2"), Some("acme"), "user_1"));
        // Characters moved between tenant and subject do not collide.
        assert_ne!(
            OrderKey::new(&ep("ep_1"), Some("ab"), "c"),
            OrderKey::new(&ep("ep_1"), Some("a"), "bc")
        );
        assert_eq!(key, OrderKey::new(&ep("ep_1"), Some("acme"), "user_1"));
    }

    #[test]
    fn sequences_follow_the_clock_and_never_repeat() {
        let t = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let first = next_sequence(0, t);
        assert_eq!(first, 1_800_000_000_000_000);
        assert_eq!(next_sequence(first, t), first + 1);
        // A clock step backwards still moves forward.
        let earlier = Utc.timestamp_opt(1_799_999_999, 0).unwrap();
        assert_eq!(next_sequence(first + 1, earlier), first + 2);
        // Safe in a JavaScript number for centuries.
        assert!(first < (1u64 << 53));
    }

    #[test]
    fn a_wait_longer_than_one_hold_is_remembered_as_its_due_time() {
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let minute = Duration::from_secs(60);
        assert_eq!(hold_for(minute, now), (minute, None));
        assert_eq!(hold_for(MAX_HOLD, now), (MAX_HOLD, None));
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(
            hold_for(day, now),
            (MAX_HOLD, Some(now + chrono::Duration::days(1)))
        );
    }

    #[test]
    fn deferral_holds_thin_out_as_an_outage_lasts() {
        let minute = Duration::from_secs(60);
        assert_eq!(deferral_hold(minute, Duration::ZERO), minute);
        assert_eq!(deferral_hold(minute, 100 * minute), 10 * minute);
        assert_eq!(deferral_hold(minute, 10_000 * minute), MAX_DEFERRAL_HOLD);
        // A job deferred throughout a five-day outage, its circuit letting a probe by each
        // minute, is received well under the ordered queue's 1 000 times.
        let (mut outage, mut looks) = (Duration::ZERO, 0);
        while outage < Duration::from_secs(5 * 24 * 3600) {
            outage += deferral_hold(minute, outage);
            looks += 1;
        }
        assert!((500..1000).contains(&looks), "{looks} looks");
    }

    #[test]
    fn freshness_drops_stale_and_duplicate_updates() {
        assert_eq!(freshness(None, 5), Freshness::New);
        assert_eq!(freshness(Some(4), 5), Freshness::New);
        assert_eq!(freshness(Some(5), 5), Freshness::Duplicate);
        assert_eq!(freshness(Some(6), 5), Freshness::Stale);
    }

    #[test]
    fn ordering_names_parse_and_print() {
        for order in [DeliveryOrder::Subject, DeliveryOrder::None] {
            assert_eq!(DeliveryOrder::parse(order.as_str()), Ok(order));
            assert_eq!(
                serde_json::to_value(order).unwrap(),
                serde_json::json!(order.as_str())
            );
        }
        assert!(DeliveryOrder::parse("fifo")
            .unwrap_err()
            .contains("\"fifo\""));
        assert_eq!(DeliveryOrder::default(), DeliveryOrder::None);
        assert_eq!(DeliveryOrder::FOR_NEW_ENDPOINTS, DeliveryOrder::Subject);
    }
}
