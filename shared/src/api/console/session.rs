//! Console sessions: the admin token, presented once at sign-in, becomes a random session id
//! in an HttpOnly, SameSite=Strict cookie, so the page's script never holds the token; each
//! session has its own CSRF token, which every state-changing admin request made with the
//! cookie must echo in `x-csrf-token`. In memory, bounded and expiring: a restart signs
//! everyone out, which is what a local console should do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

use crate::ports::{Clock, Entropy};

/// The cookie's name.
pub const COOKIE: &str = "authhooks_session";
/// The header a state-changing request made with the cookie carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts from sign-in.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;
/// Sessions kept at once; the one closest to expiry goes first when a new one needs room.
const MAX_SESSIONS: usize = 64;

#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    expires_at: DateTime<Utc>,
}

/// What a request's cookie and CSRF header prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// No live session for the cookie (none, unknown, expired).
    None,
    /// A live session, and the request's CSRF token is its own.
    SessionWithCsrf,
    /// A live session, without its CSRF token (enough to read, not to change anything).
    SessionOnly,
}

pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl Sessions {
    pub fn new(clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        Self {
            live: Mutex::new(HashMap::new()),
            clock,
            entropy,
        }
    }

    /// A new session: its id (the cookie's value) and its CSRF token.
    pub fn open(&self) -> (String, String) {
        let id = URL_SAFE_NO_PAD.encode(self.entropy.bytes32());
        let csrf = URL_SAFE_NO_PAD.encode(self.entropy.bytes32());
        let now = self.clock.now();
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|_, s| s.expires_at > now);
        if live.len() >= MAX_SESSIONS {
            let oldest = live
                .iter()
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                live.remove(&oldest);
            }
        }
        let session = Session {
            csrf: csrf.clone(),
            expires_at: now + Duration::seconds(SESSION_TTL_SECS),
        };
        live.insert(id.clone(), session);
        (id, csrf)
    }

    /// The CSRF token of the live session `id`, if any.
    pub fn csrf(&self, id: &str) -> Option<String> {
        let now = self.clock.now();
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.get(id)
            .filter(|s| s.expires_at > now)
            .map(|s| s.csrf.clone())
    }

    /// What `id` (from the cookie) and `csrf` (from the header) prove. The CSRF token is
    /// compared in constant time; the id is a map key, as unguessable as the token itself.
    pub fn prove(&self, id: Option<&str>, csrf: Option<&str>) -> Proof {
        let Some(expected) = id.and_then(|id| self.csrf(id)) else {
            return Proof::None;
        };
        match csrf {
            Some(given) if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) => {
                Proof::SessionWithCsrf
            }
            _ => Proof::SessionOnly,
        }
    }

    pub fn close(&self, id: &str) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.remove(id);
    }
}

/// The session cookie's value in a `Cookie` header (`a=1; authhooks_session=…`).
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

/// The `Set-Cookie` value for session `id` (`Max-Age=0` with an empty id signs out).
pub fn set_cookie(id: &str, max_age_secs: i64) -> String {
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{ManualClock, SeededEntropy};
    use chrono::TimeZone;

    fn sessions() -> (Sessions, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        ));
        (
            Sessions::new(clock.clone(), Arc::new(SeededEntropy::new(3))),
            clock,
        )
    }

    #[test]
    fn a_session_proves_itself_with_its_own_csrf_token_until_it_expires() {
        let (sessions, clock) = sessions();
        let (id, csrf) = sessions.open();
        let (other, other_csrf) = sessions.open();
        assert_ne!(id, other);
        assert_eq!(
            sessions.prove(Some(&id), Some(&csrf)),
            Proof::SessionWithCsrf
        );
        assert_eq!(
            sessions.prove(Some(&id), Some(&other_csrf)),
            Proof::SessionOnly
        );
        assert_eq!(sessions.prove(Some(&id), None), Proof::SessionOnly);
        assert_eq!(sessions.prove(Some("forged"), Some(&csrf)), Proof::None);
        assert_eq!(sessions.prove(None, Some(&csrf)), Proof::None);

        clock.advance(std::time::Duration::from_secs(SESSION_TTL_SECS as u64));
        assert_eq!(
            sessions.prove(Some(&id), Some(&csrf)),
            Proof::None,
            "expired"
        );
    }

    #[test]
    fn a_closed_session_proves_nothing_and_sessions_are_bounded() {
        let (sessions, clock) = sessions();
        let (id, csrf) = sessions.open();
        sessions.close(&id);
        assert_eq!(sessions.prove(Some(&id), Some(&csrf)), Proof::None);
        let first = sessions.open().0;
        // Later sessions expire later: the first is the one to make room.
        clock.advance(std::time::Duration::from_secs(1));
        for _ in 0..MAX_SESSIONS {
            sessions.open();
        }
        assert_eq!(sessions.prove(Some(&first), None), Proof::None, "evicted");
        assert!(sessions.live.lock().unwrap().len() <= MAX_SESSIONS);
    }

    #[test]
    fn the_cookie_is_found_among_others_and_set_with_its_flags() {
        assert_eq!(cookie_value("a=1; authhooks_session=abc ;b=2"), Some("abc"));
        assert_eq!(cookie_value("authhooks_sessionx=abc"), None);
        assert_eq!(cookie_value(""), None);
        let set = set_cookie("abc", 60);
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
            assert!(set.contains(flag), "{set}");
        }
    }
}
