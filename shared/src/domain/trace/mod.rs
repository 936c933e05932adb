//! W3C Trace Context (`traceparent`, `tracestate`): parsed strictly at ingest, carried in
//! each delivery job, and continued by the worker with the attempt's own span id.
//!
//! An invalid header is never an error to the producer: the spec says to ignore it and
//! start over, so parsing answers `None` rather than a reason.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Header names, lower-case as HTTP/2 and the sender's reserved list spell them.
pub const HEADER_TRACEPARENT: &str = "traceparent";
pub const HEADER_TRACESTATE: &str = "tracestate";

/// The spec lets a vendor drop `tracestate` beyond 512 characters; a bounded job message
/// and outgoing header matter more to us than a third party's vendor entries.
pub const MAX_TRACESTATE_CHARS: usize = 512;

/// The only flag version 00 defines; the others are not ours to forward.
const FLAG_SAMPLED: u8 = 0x01;

/// A parsed `traceparent` (always sent as version 00), with the `tracestate` that came with
/// it. Ids are never all zero: [`TraceParent::parse`] refuses them and [`SpanId`] avoids them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
    state: Option<TraceState>,
}

/// A span id for a child: 8 bytes, never all zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanId([u8; 8]);

impl SpanId {
    /// From random bits. Zero, the invalid id, becomes 1: one draw in 2^64, and a valid
    /// header beats a dropped trace.
    pub fn from_random(bits: u64) -> Self {
        Self(bits.max(1).to_be_bytes())
    }

    /// `None` for the all-zero id.
    pub fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        (bytes != [0; 8]).then_some(Self(bytes))
    }
}

/// A `tracestate` list kept as received (whitespace trimmed), at most
/// [`MAX_TRACESTATE_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceState(String);

impl TraceState {
    /// Keeps a plausible list of `key=value` members; drops whole members from the end
    /// while it is too long (the spec's truncation), and answers `None` for anything else.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim_matches([' ', '\t']);
        let printable = header.bytes().all(|b| (b' '..=b'~').contains(&b));
        if header.is_empty() || !printable {
            return None;
        }
        let mut members: Vec<&str> = header
            .split(',')
            .map(|m| m.trim_matches([' ', '\t']))
            .filter(|m| !m.is_empty())
            .collect();
        if members.iter().any(|m| !is_member(m)) {
            return None;
        }
        while !members.is_empty() && members.join(",").len() > MAX_TRACESTATE_CHARS {
            members.pop();
        }
        (!members.is_empty()).then(|| Self(members.join(",")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `key=value` with a non-empty key and value and no second `=` in the key.
fn is_member(member: &str) -> bool {
    match member.split_once('=') {
        Some((key, value)) => !key.is_empty() && !value.is_empty() && !key.contains(' '),
        None => false,
    }
}

impl TraceParent {
    /// Parses a `traceparent` header per W3C Trace Context: lower-case hex only, ids not all
    /// zero, version `ff` refused, version 00 exactly 55 characters; a later version is read
    /// by its version-00 prefix when what follows starts with `-`. `tracestate` is kept only
    /// with a valid parent, as the spec requires.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let header = traceparent.trim_matches([' ', '\t']);
        let bytes = header.as_bytes();
        let version = hex_byte(bytes.get(0..2)?)?;
        let fits = match version {
            0xff => false,
            0x00 => bytes.len() == 55,
            _ => bytes.len() == 55 || (bytes.len() > 55 && bytes[55] == b'-'),
        };
        if !fits || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let trace_id: [u8; 16] = hex_array(&bytes[3..35])?;
        let parent_id: [u8; 8] = hex_array(&bytes[36..52])?;
        let flags = hex_byte(&bytes[53..55])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            parent_id,
            flags,
            state: tracestate.and_then(TraceState::parse),
        })
    }

    /// The context this system continues, for the request it sends with span `span_id`:
    /// same trace, the span as parent, the sampled flag kept (other bits are undefined in
    /// version 00, so not forwarded) and `tracestate` as received.
    pub fn child(&self, span_id: SpanId) -> Self {
        Self {
            trace_id: self.trace_id,
            parent_id: span_id.0,
            flags: self.flags & FLAG_SAMPLED,
            state: self.state.clone(),
        }
    }

    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    pub fn flags(&self) -> u8 {
        self.flags
    }

    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    pub fn state(&self) -> Option<&TraceState> {
        self.state.as_ref()
    }

    /// The trace id as 32 lower-case hex digits, as log lines and tracing backends show it.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The `traceparent` header value, version 00.
    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.parent_id),
            self.flags
        )
    }

    /// The headers to send: `traceparent`, and `tracestate` when there is one.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(HEADER_TRACEPARENT, self.header())];
        if let Some(state) = &self.state {
            out.push((HEADER_TRACESTATE, state.0.clone()));
        }
        out
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    match pair {
        [hi, lo] => Some(hex_digit(*hi)? << 4 | hex_digit(*lo)?),
        _ => None,
    }
}

fn hex_array<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
        *byte = hex_byte(pair)?;
    }
    Some(out)
}

/// In a job message: the two header values, so a queued job reads like what came in.
#[derive(Serialize, Deserialize)]
struct Stored {
    traceparent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracestate: Option<String>,
}

impl Serialize for TraceParent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Stored {
            traceparent: self.header(),
            tracestate: self.state.as_ref().map(|s| s.0.clone()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TraceParent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        Self::parse(&stored.traceparent, stored.tracestate.as_deref())
            .ok_or_else(|| serde::de::Error::custom("invalid traceparent"))
    }
}

#[cfg(test)]
mod tests;
