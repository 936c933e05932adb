//! Which events an endpoint receives: type patterns, tenant scoping and the origin loop guard.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::event::{is_operational, Event, EventType};

/// Event types have at most 6 segments, so a prefix has at most 5: `a.b.c.d.e.*` still leaves
/// room for one more.
const MAX_PREFIX_SEGMENTS: usize = 5;
/// The longest an event type may be, which bounds every pattern too.
const MAX_PATTERN_CHARS: usize = 128;

/// `*`, `user.*` (any type under a prefix) or one exact type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TypePattern {
    All,
    /// The prefix including its trailing dot: `user.`.
    Prefix(String),
    Exact(EventType),
}

impl TypePattern {
    /// Parses `*`, `x.y.*` (1–5 segments of `[a-z0-9_]+` before `.*`) or an exact event type.
    pub fn parse(s: &str) -> Result<TypePattern, String> {
        if s == "*" {
            return Ok(Self::All);
        }
        if s.len() > MAX_PATTERN_CHARS {
            return Err(format!("must be at most {MAX_PATTERN_CHARS} characters"));
        }
        if let Some(prefix) = s.strip_suffix(".*") {
            let segments: Vec<&str> = prefix.split('.').collect();
            let well_formed = segments.iter().all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
            if !well_formed || segments.len() > MAX_PREFIX_SEGMENTS {
                return Err(format!(
                    "a prefix pattern must be 1 to {MAX_PREFIX_SEGMENTS} dot-separated segments \
                     of [a-z0-9_] followed by .* (like user.*)"
                ));
            }
            return Ok(Self::Prefix(format!("{prefix}.")));
        }
        EventType::parse(s)
            .map(Self::Exact)
            .map_err(|e| format!("must be *, a prefix like user.*, or an event type: {e}"))
    }

    /// Whether an event of type `t` is selected by this pattern. `*` selects every type
    /// but authhooks' own (`authhooks.*`), which go only to endpoints that name them.
    pub fn matches_type(&self, t: &EventType) -> bool {
        match self {
            Self::All => !is_operational(t.as_str()),
            // Matching on "<base>." keeps `user.*` from selecting `users.created`, even for a
            // hand-built `Prefix` that lacks its trailing dot.
            Self::Prefix(prefix) => t
                .as_str()
                .strip_prefix(prefix_base(prefix))
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('.')),
            Self::Exact(exact) => exact == t,
        }
    }
}

fn prefix_base(prefix: &str) -> &str {
    prefix.strip_suffix('.').unwrap_or(prefix)
}

impl TryFrom<String> for TypePattern {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<TypePattern> for String {
    fn from(pattern: TypePattern) -> String {
        pattern.to_string()
    }
}

impl fmt::Display for TypePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Prefix(prefix) => write!(f, "{}.*", prefix_base(prefix)),
            Self::Exact(t) => f.write_str(t.as_str()),
        }
    }
}

/// The fields of an endpoint that decide which events it receives, borrowed, so this module
/// needs no `Endpoint` (which in turn names [`TypePattern`]).
#[derive(Debug, Clone, Copy)]
pub struct Subscription<'a> {
    /// The endpoint's id: its own operational events never go to it.
    pub id: &'a str,
    pub enabled: bool,
    pub event_types: &'a [TypePattern],
    pub tenant_id: Option<&'a str>,
    pub origin: Option<&'a str>,
}

impl Subscription<'_> {
    /// Whether `event` goes to this subscription: the one place that decides.
    ///
    /// - the endpoint is enabled;
    /// - one of its patterns selects the type (an empty list selects nothing);
    /// - an endpoint scoped to a tenant gets only that tenant's events; an unscoped one gets
    ///   every tenant's (and tenant-less) events;
    /// - loop guard: an event whose origin equals the endpoint's origin is never sent back to
    ///   it, so a change Payload made is not echoed to Payload in a two-way sync. Origins
    ///   compare exactly, as given;
    /// - an operational event (`authhooks.*`) about this endpoint (its `subject`) is not
    ///   sent to it (domain::operational).
    pub fn selects(&self, event: &Event) -> bool {
        let type_selected = self
            .event_types
            .iter()
            .any(|pattern| pattern.matches_type(&event.event_type));
        let tenant_ok = match self.tenant_id {
            Some(tenant) => event.tenant_id.as_deref() == Some(tenant),
            None => true,
        };
        let loops_back = matches!(
            (self.origin, event.origin.as_deref()),
            (Some(ours), Some(theirs)) if ours == theirs
        );
        let about_itself =
            is_operational(event.event_type.as_str()) && event.subject.as_deref() == Some(self.id);
        self.enabled && type_selected && tenant_ok && !loops_back && !about_itself
    }
}

#[cfg(test)]
mod tests;
