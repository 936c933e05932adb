//! Identifiers: parsed at the edge, generated time-ordered (ULID) with the clock and
//! randomness passed in, and derived deterministically where idempotency depends on it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAX_ID_CHARS: usize = 128;

fn check_id(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > MAX_ID_CHARS {
        return Err(format!("must be at most {MAX_ID_CHARS} characters"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
    {
        return Err("may contain only letters, digits, '_', '-', '.' and ':'".into());
    }
    Ok(())
}

/// A ULID string with a prefix: sortable by creation time, unique without coordination.
fn time_ordered(prefix: &str, now: DateTime<Utc>, random: u128) -> String {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    format!("{prefix}{}", ulid::Ulid::from_parts(millis, random))
}

/// Deterministic stand-in for randomness: the `n`-th value derived from `seed`. Ingest seeds
/// generated event ids with the signed request's id, so a replayed request maps onto the
/// same event ids and is recognised as a duplicate instead of being delivered again.
pub fn seeded_random(seed: &str, n: u64) -> u128 {
    let digest = Sha256::new()
        .chain_update(seed.as_bytes())
        .chain_update(n.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(bytes)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Accepts 1–128 characters of `[A-Za-z0-9_.:-]`.
            pub fn parse(value: &str) -> Result<Self, String> {
                check_id(value).map(|()| Self(value.to_owned()))
            }

            /// A new time-ordered id (`
            #[doc = $prefix]
            /// ` + ULID).
            pub fn generate(now: DateTime<Utc>, random: u128) -> Self {
                Self(time_ordered($prefix, now, random))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                check_id(&value).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// An event's id: the producer's idempotency key, or generated at ingest.
    EventId,
    "evt_"
);
id_type!(
    /// An endpoint (subscription) id.
    EndpointId,
    "ep_"
);
id_type!(
    /// An inbound source's id: the last segment of its `POST /v1/inbound/{source_id}`.
    SourceId,
    "src_"
);
id_type!(
    /// A source's failed inbound request: time-ordered, so a source's failures list newest
    /// first by id.
    InboundFailureId,
    "inf_"
);

/// One (event, endpoint) delivery. Derived, never generated, so a job enqueued twice maps
/// to one idempotency key and is delivered once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryId(String);

impl DeliveryId {
    pub fn derive(event: &EventId, endpoint: &EndpointId) -> Self {
        // A hash rather than concatenation keeps the id fixed-length and free of separators
        // that either part might contain.
        let digest = Sha256::new()
            .chain_update(event.as_str())
            .chain_update([0u8])
            .chain_update(endpoint.as_str())
            .finalize();
        // Written digit by digit into one allocation: a `format!` per byte made this a
        // measurable share of a delivery's CPU (BENCHMARKS.md §1).
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(4 + 32);
        id.push_str("dlv_");
        for byte in &digest[..16] {
            id.push(char::from(HEX[usize::from(byte >> 4)]));
            id.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self(id)
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        check_id(value).map(|()| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A point in [0, 1) fixed for this delivery and spread evenly over deliveries (its id
    /// is a hash): what samples deliveries, so one is sampled at every attempt or never.
    pub fn sample_point(&self) -> f64 {
        let hex = self.0.strip_prefix("dlv_").unwrap_or(&self.0);
        let head = hex.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok());
        match head {
            Some(n) => f64::from(n) / (f64::from(u32::MAX) + 1.0),
            // Not a derived id (one parsed from elsewhere): always sampled.
            None => 0.0,
        }
    }
}

impl TryFrom<String> for DeliveryId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        check_id(&value).map(|()| Self(value))
    }
}

impl From<DeliveryId> for String {
    fn from(id: DeliveryId) -> String {
        id.0
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_delivery_id_is_the_hex_of_the_first_half_of_its_digest() {
        for (event, endpoint) in [
            ("evt_1", "ep_1"),
            ("evt_01KBF3Y8Z0QF4XW9Q2T7H5M1RZ", "ep_x.y:z-1"),
        ] {
            let (e, a) = (
                EventId::parse(event).unwrap(),
                EndpointId::parse(endpoint).unwrap(),
            );
            let digest = Sha256::new()
                .chain_update(event)
                .chain_update([0u8])
                .chain_update(endpoint)
                .finalize();
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(DeliveryId::derive(&e, &a).as_str(), format!("dlv_{hex}"));
        }
    }

    #[test]
    fn a_sample_of_deliveries_is_the_share_asked_for() {
        let endpoint = EndpointId::parse("ep_1").unwrap();
        let sampled = (0..20_000)
            .map(|n| EventId::parse(&format!("evt_{n}")).unwrap())
            .filter(|event| DeliveryId::derive(event, &endpoint).sample_point() < 0.01)
            .count();
        assert!((140..=260).contains(&sampled), "{sampled} of 20 000 at 1 %");
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn generated_ids_sort_by_time() {
        let t1 = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let t2 = Utc.timestamp_opt(1_700_000_001, 0).unwrap();
        let a = EventId::generate(t1, u128::MAX);
        let b = EventId::generate(t2, 0);
        assert!(a.as_str().starts_with("evt_"));
        assert!(a < b);
        assert!(EventId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn ids_reject_bad_characters_and_lengths() {
        assert!(EventId::parse("").is_err());
        assert!(EventId::parse("has space").is_err());
        assert!(EventId::parse(&"x".repeat(129)).is_err());
        assert!(EndpointId::parse("ep_01J:ok-1.2").is_ok());
    }

    #[test]
    fn seeded_values_repeat_per_seed_and_index() {
        assert_eq!(seeded_random("msg_1", 0), seeded_random("msg_1", 0));
        assert_ne!(seeded_random("msg_1", 0), seeded_random("msg_1", 1));
        assert_ne!(seeded_random("msg_1", 0), seeded_random("msg_2", 0));
    }

    #[test]
    fn delivery_ids_are_deterministic_and_distinct() {
        let e = EventId::parse("evt_1").unwrap();
        let a = EndpointId::parse("ep_a").unwrap();
        let b = EndpointId::parse("ep_b").unwrap();
        assert_eq!(DeliveryId::derive(&e, &a), DeliveryId::derive(&e, &a));
        let point = DeliveryId::derive(&e, &a).sample_point();
        assert!((0.0..1.0).contains(&point));
        assert_eq!(DeliveryId::parse("dlv_x").unwrap().sample_point(), 0.0);
        assert_ne!(DeliveryId::derive(&e, &a), DeliveryId::derive(&e, &b));
        // The separator keeps ("evt_1", "ep_a") apart from ("evt_1e", "p_a").
        let e2 = EventId::parse("evt_1e").unwrap();
        let a2 = EndpointId::parse("p_a").unwrap();
        assert_ne!(DeliveryId::derive(&e, &a), DeliveryId::derive(&e2, &a2));
    }
}
