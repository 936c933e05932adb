//! Time arithmetic the core shares: a wait added to an instant without overflowing.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// `now + wait`, saturating at the end of representable time instead of overflowing.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
