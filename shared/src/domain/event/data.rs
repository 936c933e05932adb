//! An event's `data`: a JSON object kept as the producer wrote it — key order, escapes and
//! number spellings (integers beyond 64 bits, decimals of any length) — less the whitespace
//! between tokens, so a receiver gets exactly the numbers that were sent. A `Value` would
//! have rounded such numbers through `f64` (docs/architecture.md §3.1).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::domain::json::compact;

/// The compact JSON text of one object, shared: an event going to many endpoints is one
/// copy in memory, not one per delivery job.
#[derive(Clone)]
pub struct Data(Arc<RawValue>);

impl Data {
    /// `raw` if it is an object, whitespace between tokens dropped.
    pub fn from_raw(raw: &RawValue) -> Result<Self, String> {
        if !raw.get().starts_with('{') {
            return Err("must be a JSON object".into());
        }
        RawValue::from_string(compact(raw.get()))
            .map(|raw| Self(raw.into()))
            .map_err(|e| format!("must be a JSON object ({e})"))
    }

    /// The JSON text, as delivered.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl From<Map<String, Value>> for Data {
    fn from(map: Map<String, Value>) -> Self {
        // A serialized map is always JSON; the fallback is never taken.
        let raw = RawValue::from_string(Value::Object(map).to_string());
        Self(raw.unwrap_or_else(|_| Box::<RawValue>::default()).into())
    }
}

impl Default for Data {
    fn default() -> Self {
        Self::from(Map::new())
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written out verbatim by serde_json; other formats cannot hold raw JSON, which is why the
/// DynamoDB adapter stores a delivery job as JSON text.
impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Read back verbatim from serde_json text or a `serde_json::Value`.
impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::from_raw(&raw).map_err(serde::de::Error::custom)
    }
}
