//! Typed configuration from the environment, read once per cold start. Names carry their
//! units; every problem is reported with the variable's name.

use std::time::Duration;

use crate::domain::endpoint::UrlPolicy;
use crate::domain::priority::PriorityTypes;
use crate::domain::signature::Secret;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

fn required(var: &'static str) -> Result<String, ConfigError> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(var))
}

fn optional(var: &'static str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

fn number<T: std::str::FromStr>(var: &'static str, default: T) -> Result<T, ConfigError> {
    match optional(var) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| ConfigError::Invalid {
            var,
            reason: format!("{raw:?} is not a number"),
        }),
    }
}

fn flag(var: &'static str) -> Result<bool, ConfigError> {
    match optional(var).as_deref().map(str::trim) {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not true or false"),
        }),
    }
}

/// Where the state lives: the five tables and the queues functions send to (the ordered
/// queue's DLQ only fills by redrive and drains through the dlq function's event source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub endpoints_table: String,
    pub state_table: String,
    pub failures_table: String,
    pub delivery_log_table: String,
    pub sources_table: String,
    pub deliveries_queue_url: String,
    pub ordered_queue_url: String,
    /// The priority lane's queue; a stack from before it existed has none, and its
    /// priority jobs go on the standard queue as before.
    pub priority_queue_url: Option<String>,
    pub dlq_url: String,
}

impl Resources {
    pub fn tables(&self) -> crate::adapters::dynamodb::TableNames {
        crate::adapters::dynamodb::TableNames {
            endpoints: self.endpoints_table.clone(),
            state: self.state_table.clone(),
            failures: self.failures_table.clone(),
            delivery_log: self.delivery_log_table.clone(),
            sources: self.sources_table.clone(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            endpoints_table: required("AUTHHOOKS_ENDPOINTS_TABLE")?,
            state_table: required("AUTHHOOKS_STATE_TABLE")?,
            failures_table: required("AUTHHOOKS_FAILURES_TABLE")?,
            delivery_log_table: required("AUTHHOOKS_DELIVERY_LOG_TABLE")?,
            sources_table: required("AUTHHOOKS_SOURCES_TABLE")?,
            deliveries_queue_url: required("AUTHHOOKS_DELIVERIES_QUEUE_URL")?,
            ordered_queue_url: required("AUTHHOOKS_ORDERED_QUEUE_URL")?,
            priority_queue_url: optional("AUTHHOOKS_PRIORITY_QUEUE_URL"),
            dlq_url: required("AUTHHOOKS_DLQ_URL")?,
        })
    }
}

/// Which destinations endpoints may name (`AUTHHOOKS_ALLOW_HTTP`,
/// `AUTHHOOKS_ALLOW_PRIVATE_DESTINATIONS`); both off by default.
pub fn url_policy_from_env() -> Result<UrlPolicy, ConfigError> {
    Ok(UrlPolicy {
        allow_http: flag("AUTHHOOKS_ALLOW_HTTP")?,
        allow_private: flag("AUTHHOOKS_ALLOW_PRIVATE_DESTINATIONS")?,
    })
}

/// How long a warm function trusts its copy of the endpoints (`AUTHHOOKS_ENDPOINT_CACHE_SECS`).
pub fn endpoint_cache_from_env() -> Result<Duration, ConfigError> {
    number("AUTHHOOKS_ENDPOINT_CACHE_SECS", 5u64).map(Duration::from_secs)
}

/// Where the producers' signing secret comes from.
#[derive(Debug)]
pub enum IngestSecretSource {
    /// `AUTHHOOKS_INGEST_AUTH=iam`: the Function URL authenticates callers itself.
    Iam,
    /// `AUTHHOOKS_INGEST_SECRET_ARN` (and optionally `AUTHHOOKS_INGEST_SECRET_VERSION_ID`):
    /// read from Secrets Manager once per cold start, as the template deploys it.
    SecretsManager {
        arn: String,
        version_id: Option<String>,
    },
    /// `AUTHHOOKS_INGEST_SECRET`, the `whsec_` value itself: for local runs of the function
    /// (`cargo lambda watch`) and tests, where there is no Secrets Manager.
    Value(Secret),
}

/// The ingest secret's source. Both the ARN and the value set is refused: which one wins
/// would be a guess.
pub fn ingest_secret_source_from_env() -> Result<IngestSecretSource, ConfigError> {
    match optional("AUTHHOOKS_INGEST_AUTH").as_deref().map(str::trim) {
        Some("iam") => Ok(IngestSecretSource::Iam),
        None | Some("signature") => {
            match (
                optional("AUTHHOOKS_INGEST_SECRET_ARN"),
                optional("AUTHHOOKS_INGEST_SECRET"),
            ) {
                (Some(_), Some(_)) => Err(ConfigError::Invalid {
                    var: "AUTHHOOKS_INGEST_SECRET_ARN",
                    reason: "AUTHHOOKS_INGEST_SECRET is set too; set only one".into(),
                }),
                (Some(arn), None) => Ok(IngestSecretSource::SecretsManager {
                    arn: arn.trim().to_owned(),
                    version_id: optional("AUTHHOOKS_INGEST_SECRET_VERSION_ID")
                        .map(|v| v.trim().to_owned()),
                }),
                (None, None) => Err(ConfigError::Missing(
                    "AUTHHOOKS_INGEST_SECRET_ARN (or AUTHHOOKS_INGEST_SECRET)",
                )),
                (None, Some(raw)) => Secret::parse(raw.trim())
                    .map(IngestSecretSource::Value)
                    .map_err(|e| ConfigError::Invalid {
                        var: "AUTHHOOKS_INGEST_SECRET",
                        reason: e.to_string(),
                    }),
            }
        }
        Some(other) => Err(ConfigError::Invalid {
            var: "AUTHHOOKS_INGEST_AUTH",
            reason: format!("{other:?} is neither \"signature\" nor \"iam\""),
        }),
    }
}

/// The event types on the priority lane (`AUTHHOOKS_PRIORITY_TYPES`, comma-separated;
/// unset: the revocations of domain::priority; empty: no lane).
pub fn priority_types_from_env() -> Result<PriorityTypes, ConfigError> {
    match std::env::var("AUTHHOOKS_PRIORITY_TYPES") {
        Err(_) => Ok(PriorityTypes::default()),
        Ok(list) => PriorityTypes::parse(&list).map_err(|reason| ConfigError::Invalid {
            var: "AUTHHOOKS_PRIORITY_TYPES",
            reason,
        }),
    }
}

/// The largest event accepted (`AUTHHOOKS_MAX_EVENT_BYTES`, default 64 KiB).
pub fn max_event_bytes_from_env() -> Result<usize, ConfigError> {
    number("AUTHHOOKS_MAX_EVENT_BYTES", 64 * 1024)
}

/// The share of delivered attempts the worker logs at info (`AUTHHOOKS_SUCCESS_LOG_SAMPLE`,
/// 0 to 1, default 0.01); attempts that did not deliver are always logged.
pub fn success_log_sample_from_env() -> Result<f64, ConfigError> {
    let sample: f64 = number("AUTHHOOKS_SUCCESS_LOG_SAMPLE", 0.01)?;
    if (0.0..=1.0).contains(&sample) {
        Ok(sample)
    } else {
        Err(ConfigError::Invalid {
            var: "AUTHHOOKS_SUCCESS_LOG_SAMPLE",
            reason: format!("{sample} is not from 0 to 1"),
        })
    }
}

/// The Secrets Manager secret holding the tenant portal's key
/// (`AUTHHOOKS_PORTAL_KEY_SECRET_ARN`); unset, there is no portal.
pub fn portal_key_arn_from_env() -> Option<String> {
    optional("AUTHHOOKS_PORTAL_KEY_SECRET_ARN").map(|arn| arn.trim().to_owned())
}

/// Where the portal is served (`AUTHHOOKS_PORTAL_URL`, the portal function's URL): the base
/// of the links the admin function makes.
pub fn portal_url_from_env() -> Option<String> {
    optional("AUTHHOOKS_PORTAL_URL").map(|url| url.trim().to_owned())
}

/// The admin API's bearer token (`AUTHHOOKS_ADMIN_TOKEN`); on AWS usually unset, since the
/// Function URL authenticates with IAM.
pub fn admin_token_from_env() -> Option<String> {
    optional("AUTHHOOKS_ADMIN_TOKEN")
}

/// Whether the worker also writes each endpoint's metrics (`AUTHHOOKS_ENDPOINT_METRICS`,
/// off by default): every endpoint becomes a custom metric per name, billed monthly.
pub fn endpoint_metrics_from_env() -> Result<bool, ConfigError> {
    flag("AUTHHOOKS_ENDPOINT_METRICS")
}
