//! `parse_submission` on arbitrary bytes: never panics, and whatever it accepts is within
//! the limits and serializes to the body endpoints receive.
#![no_main]

use authhooks::domain::event::{parse_submission, EventLimits};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let limits = EventLimits::default();
    let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    let mut n = 0u128;
    let mut random = || {
        n += 1;
        n
    };
    if let Ok(events) = parse_submission(body, &limits, now, &mut random) {
        assert!((1..=limits.max_batch).contains(&events.len()));
        for event in events {
            let delivered = event.to_body();
            assert!(delivered.len() <= limits.max_event_bytes);
            assert_eq!(delivered, serde_json::to_vec(&event).unwrap());
        }
    }
});
