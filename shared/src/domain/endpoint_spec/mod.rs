//! The admin API's endpoint bodies (docs/architecture.md §3.2, §3.4): create and patch, validated field by
//! field with every error reported at once, and the view returned to callers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::batch::Batching;
use super::circuit::CircuitConfig;
use super::endpoint::{
    escaped_field_path, Endpoint, EndpointSecret, EndpointUrl, ExtraHeaders, UrlPolicy,
    DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS,
};
use super::filter::TypePattern;
use super::ids::EndpointId;
use super::order::DeliveryOrder;
use super::rate_limit::RateLimit;
use super::retry::RetryPolicy;
use super::script::check_script;
use super::signature::{PublicKey, Scheme, Secret, Signing};
use super::validation::FieldError;

mod fields;
mod signing;
use super::validation::{body_object, Errors};
use fields::{batch, circuit, event_types, headers, ordering, rate_limit, retry};
use signing::{clashes, signing};

pub const MAX_EVENT_TYPES: usize = 100;
/// `tenant_id` and `origin`: generous, so any tenant or origin an event carries can be
/// targeted.
pub const MAX_LABEL_CHARS: usize = 256;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Fields the server sets; naming them in a body is an error rather than silently ignored.
const READ_ONLY: [&str; 5] = [
    "id",
    "created_at",
    "updated_at",
    "disabled_reason",
    "public_keys",
];

/// An endpoint as the admin API shows it: every stored field except the secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: EndpointId,
    pub url: String,
    pub event_types: Vec<String>,
    pub tenant_id: Option<String>,
    pub origin: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub timeout_ms: u64,
    pub rate_limit: Option<RateLimit>,
    pub circuit: CircuitConfig,
    pub retry: RetryPolicy,
    /// Absent from an older server's answer, which orders nothing.
    #[serde(default)]
    pub ordering: DeliveryOrder,
    /// Absent from an older server's answer, which signs with Standard Webhooks' `v1`.
    #[serde(default)]
    pub signing: Signing,
    /// With `standard-webhooks-v1a`: the key of every secret that still signs, newest
    /// first, and when each stops (a rotated-out one at the end of its grace period).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<PublicKeyView>,
    /// `null` (one event a POST) when the endpoint does not batch, and from an older server.
    #[serde(default)]
    pub batch: Option<Batching>,
    /// The transformation script, or `null`; absent from an older server's answer.
    #[serde(default)]
    pub transform: Option<String>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A v1a endpoint's public key, as receivers configure it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyView {
    pub key: PublicKey,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&Endpoint> for EndpointView {
    fn from(ep: &Endpoint) -> Self {
        Self {
            id: ep.id.clone(),
            url: ep.url.as_str().to_owned(),
            event_types: ep.event_types.iter().map(ToString::to_string).collect(),
            tenant_id: ep.tenant_id.clone(),
            origin: ep.origin.clone(),
            enabled: ep.enabled,
            disabled_reason: ep.disabled_reason.clone(),
            headers: ep.headers.clone().into(),
            timeout_ms: ep.timeout_ms,
            rate_limit: ep.rate_limit,
            circuit: ep.circuit,
            retry: ep.retry.clone(),
            ordering: ep.ordering,
            signing: ep.signing.clone(),
            public_keys: match ep.signing.scheme {
                Scheme::StandardWebhooksV1a => ep
                    .secrets
                    .iter()
                    .map(|s| PublicKeyView {
                        key: PublicKey::of(&s.secret),
                        expires_at: s.expires_at,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            batch: ep.batch,
            transform: ep.transform.clone(),
            description: ep.description.clone(),
            created_at: ep.created_at,
            updated_at: ep.updated_at,
        }
    }
}

impl Endpoint {
    /// The API form, without secrets.
    pub fn to_view(&self) -> EndpointView {
        EndpointView::from(self)
    }
}

/// Validates a create body. `url` and a non-empty `event_types` are required (there is no
/// implicit `["*"]`: subscribing to everything should be a visible choice); `secret` is
/// generated from `secret_bytes` when absent or null; `ordering` defaults to
/// [`DeliveryOrder::FOR_NEW_ENDPOINTS`] (stored endpoints without it load as unordered);
/// every other field takes its §3.2 default. Returns the endpoint and the secret to show
/// once.
pub fn parse_new(
    body: &Value,
    policy: &UrlPolicy,
    now: DateTime<Utc>,
    random: &mut dyn FnMut() -> u128,
    secret_bytes: [u8; 32],
) -> Result<(Endpoint, Secret), Vec<FieldError>> {
    let obj = body_object(body)?;
    let mut e = Errors::default();
    let c = read_changes(obj, policy, &CircuitConfig::default(), &mut e);
    let secret = match obj.get("secret") {
        None | Some(Value::Null) => Some(Secret::generate(secret_bytes)),
        Some(v) => e
            .string("secret", v)
            .and_then(|s| e.take("secret", Secret::parse(s).map_err(|err| err.to_string()))),
    };
    if !obj.contains_key("url") {
        e.push("url", "is required");
    }
    if !obj.contains_key("event_types") {
        e.push(
            "event_types",
            "is required; use [\"*\"] for every event type",
        );
    }
    let signing = c.signing.clone().unwrap_or_default();
    if let Some(headers) = &c.headers {
        e.0.extend(clashes(headers, &signing));
    }
    if !e.0.is_empty() {
        return Err(e.0);
    }
    let (Some(url), Some(event_types), Some(secret)) = (c.url, c.event_types, secret) else {
        return Err(vec![FieldError::new("", "is not a valid endpoint")]);
    };
    let endpoint = Endpoint {
        id: EndpointId::generate(now, random()),
        url,
        secrets: vec![EndpointSecret {
            secret: secret.clone(),
            expires_at: None,
        }],
        event_types,
        tenant_id: c.tenant_id.flatten(),
        origin: c.origin.flatten(),
        enabled: c.enabled.unwrap_or(true),
        disabled_reason: None,
        headers: c.headers.unwrap_or_default(),
        timeout_ms: c.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
        rate_limit: c.rate_limit.flatten(),
        circuit: c.circuit.unwrap_or_default(),
        retry: c.retry.unwrap_or_default(),
        ordering: c.ordering.unwrap_or(DeliveryOrder::FOR_NEW_ENDPOINTS),
        signing,
        batch: c.batch.flatten(),
        transform: c.transform.flatten(),
        description: c.description.flatten(),
        created_at: now,
        updated_at: now,
    };
    Ok((endpoint, secret))
}

/// Validates a patch body and applies it to `current`. Only given fields change; `null`
/// clears `tenant_id`, `origin`, `description` and `rate_limit` and is an error elsewhere.
/// `circuit` merges over the current settings; `retry` and `headers` replace them whole.
/// Re-enabling clears `disabled_reason`.
pub fn apply_patch(
    current: &Endpoint,
    body: &Value,
    policy: &UrlPolicy,
    now: DateTime<Utc>,
) -> Result<Endpoint, Vec<FieldError>> {
    let obj = body_object(body)?;
    let mut e = Errors::default();
    let c = read_changes(obj, policy, &current.circuit, &mut e);
    if obj.contains_key("secret") {
        e.push("secret", "cannot be patched; use rotate-secret");
    }
    if !e.0.is_empty() {
        return Err(e.0);
    }
    let mut next = current.clone();
    next.url = c.url.unwrap_or(next.url);
    next.event_types = c.event_types.unwrap_or(next.event_types);
    next.tenant_id = c.tenant_id.unwrap_or(next.tenant_id);
    next.origin = c.origin.unwrap_or(next.origin);
    next.description = c.description.unwrap_or(next.description);
    next.headers = c.headers.unwrap_or(next.headers);
    next.timeout_ms = c.timeout_ms.unwrap_or(next.timeout_ms);
    next.rate_limit = c.rate_limit.unwrap_or(next.rate_limit);
    next.circuit = c.circuit.unwrap_or(next.circuit);
    next.retry = c.retry.unwrap_or(next.retry);
    next.ordering = c.ordering.unwrap_or(next.ordering);
    next.signing = c.signing.unwrap_or(next.signing);
    next.batch = c.batch.unwrap_or(next.batch);
    next.transform = c.transform.unwrap_or(next.transform);
    let clashing = clashes(&next.headers, &next.signing);
    if !clashing.is_empty() {
        return Err(clashing);
    }
    if let Some(enabled) = c.enabled {
        // The reason explains a disabling by the system; it is stale once a person turns the
        // endpoint back on, or turns off one that was running.
        if enabled || next.enabled {
            next.disabled_reason = None;
        }
        next.enabled = enabled;
    }
    next.updated_at = now;
    Ok(next)
}

/// A transformation script (`domain::script::check_script`), or `null`.
fn transform(v: &Value, e: &mut Errors) -> Option<String> {
    let script = e.string("transform", v)?;
    let checked = check_script(script).map_err(|message| format!("{message}, or null"));
    e.take("transform", checked.map(|()| script.to_owned()))
}

/// The fields a body sets; `Some(None)` is an explicit `null` on a nullable field.
#[derive(Default)]
struct Changes {
    url: Option<EndpointUrl>,
    event_types: Option<Vec<TypePattern>>,
    tenant_id: Option<Option<String>>,
    origin: Option<Option<String>>,
    description: Option<Option<String>>,
    enabled: Option<bool>,
    headers: Option<ExtraHeaders>,
    timeout_ms: Option<u64>,
    rate_limit: Option<Option<RateLimit>>,
    circuit: Option<CircuitConfig>,
    retry: Option<RetryPolicy>,
    ordering: Option<DeliveryOrder>,
    signing: Option<Signing>,
    batch: Option<Option<Batching>>,
    transform: Option<Option<String>>,
}

/// Reads every field but `secret`, whose rules differ between create and patch.
fn read_changes(
    body: &Map<String, Value>,
    policy: &UrlPolicy,
    circuit_base: &CircuitConfig,
    e: &mut Errors,
) -> Changes {
    let mut c = Changes::default();
    for (key, v) in body {
        let f = key.as_str();
        match f {
            "url" => {
                c.url = e
                    .string(f, v)
                    .and_then(|s| e.take(f, EndpointUrl::parse(s, policy)))
            }
            "event_types" => c.event_types = event_types(v, e),
            "tenant_id" => c.tenant_id = e.label(f, v, MAX_LABEL_CHARS),
            "origin" => c.origin = e.label(f, v, MAX_LABEL_CHARS),
            "description" => c.description = e.label(f, v, MAX_DESCRIPTION_CHARS),
            "enabled" => c.enabled = e.boolean(f, v),
            "headers" => c.headers = headers(v, e),
            "timeout_ms" => {
                c.timeout_ms = e.integer(f, v).and_then(|ms| {
                    let ok = (MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&ms);
                    let message = format!("must be between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS}");
                    e.take(f, if ok { Ok(ms) } else { Err(message) })
                });
            }
            "rate_limit" if v.is_null() => c.rate_limit = Some(None),
            "rate_limit" => c.rate_limit = rate_limit(v, e).map(Some),
            "circuit" => c.circuit = circuit(v, circuit_base, e),
            "retry" => c.retry = retry(v, e),
            "ordering" => c.ordering = ordering(v, e),
            "signing" => c.signing = signing(v, e),
            "batch" if v.is_null() => c.batch = Some(None),
            "batch" => c.batch = batch(v, e).map(Some),
            "transform" if v.is_null() => c.transform = Some(None),
            "transform" => c.transform = transform(v, e).map(Some),
            "secret" => {}
            _ if READ_ONLY.contains(&f) => e.push(f, "is set by the server and cannot be given"),
            _ => e.push(&escaped_field_path("", f), "unknown field"),
        }
    }
    c
}

#[cfg(test)]
mod signing_tests;
#[cfg(test)]
mod tests;
