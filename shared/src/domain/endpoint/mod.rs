//! Endpoints (subscriptions) as stored and as delivered to (docs/architecture.md §3.2): the destination
//! URL and its SSRF checks, extra headers and their injection checks, and secret rotation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::batch::Batching;
use super::circuit::CircuitConfig;
use super::destination::{classify_ip, is_allowed, AddressClass};
use super::event::Event;
use super::filter::{Subscription, TypePattern};
use super::ids::EndpointId;
use super::order::{DeliveryOrder, OrderKey};
use super::rate_limit::RateLimit;
use super::retry::RetryPolicy;
use super::signature::{Secret, Signing};

mod headers;
pub(crate) use crate::domain::validation::escaped_field_path;

/// Delivery timeout when none is given, and its bounds.
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;
pub const MIN_TIMEOUT_MS: u64 = 100;
pub const MAX_TIMEOUT_MS: u64 = 30_000;
/// How long a rotated-out secret keeps signing.
pub const DEFAULT_ROTATION_GRACE_HOURS: i64 = 24;
/// Secrets kept per endpoint (the current one and those still in their grace period).
pub const MAX_SECRETS: usize = 5;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADER_NAME_CHARS: usize = 64;
pub const MAX_HEADER_VALUE_CHARS: usize = 1024;

/// An `http(s)` URL accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EndpointUrl(url::Url);

/// What a deployment allows as destinations. Local mode allows both; AWS allows neither
/// unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    pub allow_http: bool,
    pub allow_private: bool,
}

/// A signing secret and, once rotated out, the end of its grace period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSecret {
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Extra static headers sent with every delivery, validated so they can neither inject
/// header lines nor override the signature headers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct ExtraHeaders(BTreeMap<String, String>);

/// The storage form of an endpoint (secrets included; the API view omits them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: EndpointId,
    pub url: EndpointUrl,
    pub secrets: Vec<EndpointSecret>,
    pub event_types: Vec<TypePattern>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    pub enabled: bool,
    /// Why the system disabled it (410 Gone, circuit open too long); `None` when a person did.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub headers: ExtraHeaders,
    pub timeout_ms: u64,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    pub circuit: CircuitConfig,
    pub retry: RetryPolicy,
    /// Whether each subject's deliveries queue behind each other. An endpoint stored before
    /// the field existed loads as [`DeliveryOrder::None`], so an upgrade changes no
    /// endpoint's behaviour; the API gives new endpoints [`DeliveryOrder::FOR_NEW_ENDPOINTS`].
    #[serde(default)]
    pub ordering: DeliveryOrder,
    /// How deliveries are signed; an endpoint stored before the field existed loads as
    /// Standard Webhooks `v1`, as it was signed then.
    #[serde(default)]
    pub signing: Signing,
    /// Several events per POST (docs/architecture.md §3.15); `None`, one event a POST, for
    /// an endpoint that did not opt in and for one stored before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batching>,
    /// A script that reshapes each delivery before it is signed (§3.17); `None` sends the
    /// event as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointUrl {
    /// Parses a destination and checks it against `policy`: at most 2048 characters, https
    /// (http only with `allow_http`), a host, no `user:pass@`, no fragment, and a literal IP
    /// (in any spelling the URL standard normalizes, such as `http://2130706433/`) or a
    /// `localhost` name only where its address class is allowed.
    ///
    /// Hostnames are not resolved here: the HTTP sender checks every address a name resolves
    /// to with [`classify_ip`] before connecting, which is also what defeats DNS rebinding.
    pub fn parse(s: &str, policy: &UrlPolicy) -> Result<EndpointUrl, String> {
        let url = parse_http_url(s)?;
        let mut problems = Vec::new();
        if url.scheme() == "http" && !policy.allow_http {
            problems.push("must use https".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            problems.push("must not contain credentials (user:password@)".to_owned());
        }
        if url.fragment().is_some() {
            problems.push("must not contain a fragment (#...)".to_owned());
        }
        if let Some(class) = host_class(&url) {
            if !is_allowed(class, policy.allow_private) {
                problems.push(format!("must not point to {}", class.describe()));
            }
        }
        if problems.is_empty() {
            Ok(Self(url))
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as written in the URL (IPv6 in brackets).
    pub fn host_str(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

/// Parses an absolute http(s) URL with a host; shared by the checked and the storage path.
fn parse_http_url(s: &str) -> Result<url::Url, String> {
    let too_long = || format!("must be at most {MAX_URL_CHARS} characters");
    if s.len() > MAX_URL_CHARS {
        return Err(too_long());
    }
    // The URL parser silently drops tabs and newlines and trims spaces; refusing them keeps
    // what was submitted and what is called the same.
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain whitespace or control characters".into());
    }
    let url = url::Url::parse(s).map_err(|e| format!("must be a valid absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host".into());
    }
    // IDNA can lengthen a host, so the normalized form is bounded too.
    if url.as_str().len() > MAX_URL_CHARS {
        return Err(too_long());
    }
    Ok(url)
}

/// The address class a URL's host is known to have without DNS: literal IPs, and the names
/// `localhost` and `*.localhost`, which resolvers answer locally (RFC 6761).
fn host_class(url: &url::Url) -> Option<AddressClass> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(classify_ip(ip.into())),
        url::Host::Ipv6(ip) => Some(classify_ip(ip.into())),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            (name == "localhost" || name.ends_with(".localhost")).then_some(AddressClass::Loopback)
        }
    }
}

/// The storage form. It deliberately checks only that the value is an http(s) URL with a
/// host, never the deployment's [`UrlPolicy`], so that stored endpoints always load (an
/// endpoint created in local mode, or before a policy change). Untrusted input goes through
/// [`EndpointUrl::parse`]; the sender re-checks every address it connects to.
impl TryFrom<String> for EndpointUrl {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        parse_http_url(&value).map(Self)
    }
}

impl From<EndpointUrl> for String {
    fn from(url: EndpointUrl) -> String {
        url.0.into()
    }
}

impl Endpoint {
    /// Whether the endpoint is `tenant`'s (what a tenant portal may see and change).
    pub fn belongs_to(&self, tenant: &str) -> bool {
        self.tenant_id.as_deref() == Some(tenant)
    }

    /// Every secret that signs a delivery at `now`, newest first (`secrets` is kept in that
    /// order by [`Endpoint::rotate_secret`]).
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&Secret> {
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .map(|s| &s.secret)
            .collect()
    }

    /// Makes `new` the current secret. Every still-valid secret keeps signing until
    /// `now + grace` at the latest (an earlier expiry is kept), expired ones are dropped,
    /// and at most [`MAX_SECRETS`] are kept, newest first.
    pub fn rotate_secret(&mut self, new: Secret, now: DateTime<Utc>, grace: chrono::Duration) {
        let fallback = if grace < chrono::Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        };
        let cutoff = now.checked_add_signed(grace).unwrap_or(fallback);
        self.secrets
            .retain(|s| s.expires_at.is_none_or(|at| at > now));
        for s in &mut self.secrets {
            s.expires_at = Some(s.expires_at.map_or(cutoff, |at| at.min(cutoff)));
        }
        self.secrets.insert(
            0,
            EndpointSecret {
                secret: new,
                expires_at: None,
            },
        );
        self.secrets.truncate(MAX_SECRETS);
        self.updated_at = now;
    }

    /// The fields that decide which events it receives ([`Subscription::selects`]).
    pub fn subscription(&self) -> Subscription<'_> {
        Subscription {
            id: self.id.as_str(),
            enabled: self.enabled,
            event_types: &self.event_types,
            tenant_id: self.tenant_id.as_deref(),
            origin: self.origin.as_deref(),
        }
    }

    /// Whether `event` goes to this endpoint.
    pub fn receives(&self, event: &Event) -> bool {
        self.subscription().selects(event)
    }

    /// The line `event`'s delivery to this endpoint waits in: its subject's (within its
    /// tenant) when the endpoint orders by subject, none when it does not or when the event
    /// has no subject (such events are not ordered).
    pub fn order_key(&self, event: &Event) -> Option<OrderKey> {
        match self.ordering {
            DeliveryOrder::Subject => (event.subject.as_deref())
                .map(|subject| OrderKey::new(&self.id, event.tenant_id.as_deref(), subject)),
            DeliveryOrder::None => None,
        }
    }

    /// The delivery timeout, clamped to the allowed bounds in case a stored record was
    /// edited by hand.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms.clamp(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS))
    }

    /// Disabled by the system (410 Gone, circuit open too long), with the reason shown to
    /// operators.
    pub fn disable(&mut self, reason: &str, now: DateTime<Utc>) {
        self.enabled = false;
        self.disabled_reason = Some(reason.to_owned());
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests;
