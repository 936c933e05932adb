//! Readers for an endpoint body's structured fields (event types, headers, rate limit,
//! circuit, retry, ordering, batch), each recording what is wrong in the shared collector
//! (`validation::Errors`), so one bad field never hides another.

use serde_json::Value;

use super::MAX_EVENT_TYPES;
use crate::domain::batch::{Batching, DEFAULT_WAIT_MS};
use crate::domain::circuit::CircuitConfig;
use crate::domain::endpoint::{escaped_field_path, ExtraHeaders};
use crate::domain::filter::TypePattern;
use crate::domain::order::DeliveryOrder;
use crate::domain::rate_limit::RateLimit;
use crate::domain::retry::RetryPolicy;
use crate::domain::validation::{field_path, Errors};

pub(super) fn event_types(v: &Value, e: &mut Errors) -> Option<Vec<TypePattern>> {
    const F: &str = "event_types";
    let items = e.array(F, v)?;
    if items.is_empty() || items.len() > MAX_EVENT_TYPES {
        let message = format!("must list 1 to {MAX_EVENT_TYPES} patterns (\"*\" selects all)");
        e.push(F, message);
        return None;
    }
    let mut patterns = Vec::with_capacity(items.len());
    let before = e.0.len();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{F}[{i}]");
        match e
            .string(&path, item)
            .and_then(|s| e.take(&path, TypePattern::parse(s)))
        {
            Some(p) if patterns.contains(&p) => e.push(&path, "is listed twice"),
            Some(p) => patterns.push(p),
            None => {}
        }
    }
    (e.0.len() == before).then_some(patterns)
}

pub(super) fn headers(v: &Value, e: &mut Errors) -> Option<ExtraHeaders> {
    let obj = e.object("headers", v)?;
    let before = e.0.len();
    let mut entries = Vec::with_capacity(obj.len());
    for (name, value) in obj {
        let text = value.as_str().unwrap_or_else(|| {
            e.push(&escaped_field_path("headers", name), "must be a string");
            // A stand-in (valid) value keeps the name and count rules checking this header.
            ""
        });
        entries.push((name.as_str(), text));
    }
    match ExtraHeaders::validate(entries, "headers") {
        Ok(headers) => (e.0.len() == before).then_some(headers),
        Err(errors) => {
            e.0.extend(errors);
            None
        }
    }
}

pub(super) fn rate_limit(v: &Value, e: &mut Errors) -> Option<RateLimit> {
    const F: &str = "rate_limit";
    let obj = e.kind(F, v.as_object(), "an object or null")?;
    let before = e.0.len();
    let (mut rps, mut burst) = (None, None);
    for (k, v) in obj {
        let f = escaped_field_path(F, k);
        match k.as_str() {
            "requests_per_second" => rps = e.number(&f, v),
            "burst_size" => burst = e.u32(&f, v),
            _ => e.push(&f, "unknown field"),
        }
    }
    e.require(F, obj, &["requests_per_second", "burst_size"]);
    let limit = RateLimit {
        requests_per_second: rps?,
        burst_size: burst?,
    };
    e.validated(before, limit.validate(F), limit)
}

pub(super) fn circuit(v: &Value, base: &CircuitConfig, e: &mut Errors) -> Option<CircuitConfig> {
    const F: &str = "circuit";
    let obj = e.object(F, v)?;
    let before = e.0.len();
    let mut config = *base;
    for (k, v) in obj {
        let f = escaped_field_path(F, k);
        let slot = match k.as_str() {
            "failure_threshold" => &mut config.failure_threshold,
            "success_threshold" => &mut config.success_threshold,
            "half_open_max_requests" => &mut config.half_open_max_requests,
            "open_timeout_secs" => {
                config.open_timeout_secs = e.integer(&f, v).unwrap_or(config.open_timeout_secs);
                continue;
            }
            _ => {
                e.push(&f, "unknown field");
                continue;
            }
        };
        *slot = e.u32(&f, v).unwrap_or(*slot);
    }
    e.validated(before, config.validate(F), config)
}

/// `{"schedule_secs": [...]}`, or the exponential form with all four of its fields.
pub(super) fn retry(v: &Value, e: &mut Errors) -> Option<RetryPolicy> {
    const F: &str = "retry";
    const EXPONENTIAL: [&str; 4] = [
        "initial_delay_ms",
        "backoff_multiplier",
        "max_delay_ms",
        "max_retries",
    ];
    let obj = e.object(F, v)?;
    let before = e.0.len();
    let path = |k: &str| field_path(F, k);
    let policy = if let Some(schedule) = obj.get("schedule_secs") {
        e.only(F, obj, &["schedule_secs"]);
        let delays = e.array(&path("schedule_secs"), schedule)?;
        let parsed: Vec<Option<u64>> = (delays.iter().enumerate())
            .map(|(i, d)| e.integer(&format!("{F}.schedule_secs[{i}]"), d))
            .collect();
        RetryPolicy::Schedule {
            schedule_secs: parsed.into_iter().collect::<Option<Vec<u64>>>()?,
        }
    } else if EXPONENTIAL.iter().any(|k| obj.contains_key(*k)) {
        e.only(F, obj, &EXPONENTIAL);
        e.require(F, obj, &EXPONENTIAL);
        let mut integer = |k: &str| obj.get(k).and_then(|v| e.integer(&path(k), v));
        let (initial, max_delay) = (integer("initial_delay_ms"), integer("max_delay_ms"));
        let multiplier =
            (obj.get("backoff_multiplier")).and_then(|v| e.number(&path("backoff_multiplier"), v));
        let max_retries = (obj.get("max_retries")).and_then(|v| e.u32(&path("max_retries"), v));
        RetryPolicy::Exponential {
            initial_delay_ms: initial?,
            backoff_multiplier: multiplier?,
            max_delay_ms: max_delay?,
            max_retries: max_retries?,
        }
    } else {
        let forms = "must be {\"schedule_secs\": [...]} or {\"initial_delay_ms\", \
                     \"backoff_multiplier\", \"max_delay_ms\", \"max_retries\"}";
        e.push(F, forms);
        return None;
    };
    e.validated(before, policy.validate(F), policy)
}

/// `{"max_events": 2..=100, "max_wait_ms": 0..=300000}` (the wait defaults to a second).
pub(super) fn batch(v: &Value, e: &mut Errors) -> Option<Batching> {
    const F: &str = "batch";
    let obj = e.kind(F, v.as_object(), "an object or null")?;
    let before = e.0.len();
    e.only(F, obj, &["max_events", "max_wait_ms"]);
    e.require(F, obj, &["max_events"]);
    let max_events = obj
        .get("max_events")
        .and_then(|v| e.u32(&field_path(F, "max_events"), v));
    let max_wait_ms = match obj.get("max_wait_ms") {
        Some(v) => e.integer(&field_path(F, "max_wait_ms"), v),
        None => Some(DEFAULT_WAIT_MS),
    };
    let batching = Batching {
        max_events: max_events?,
        max_wait_ms: max_wait_ms?,
    };
    e.validated(before, batching.validate(F), batching)
}

/// `"subject"` or `"none"`; `null` is refused like any other value (there is nothing to
/// clear: omit the field to keep the current setting, or to take the default on create).
pub(super) fn ordering(v: &Value, e: &mut Errors) -> Option<DeliveryOrder> {
    // A long string is not echoed back into the error.
    const ECHOED_CHARS: usize = 32;
    let parsed = match v.as_str() {
        Some(s) if s.chars().count() <= ECHOED_CHARS => DeliveryOrder::parse(s),
        _ => Err("must be \"subject\" or \"none\"".to_owned()),
    };
    e.take("ordering", parsed)
}
