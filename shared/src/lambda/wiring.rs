//! Builds what a function needs once per cold start: the configuration from the
//! environment, the clients, and the system over them ([`crate::system`]); then the SQS
//! batch handlers the worker and dlq functions run.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use super::config::{self, ConfigError, IngestSecretSource, Resources};
use super::metrics::{self, emf_lines, recorder_line, MetricsOut};
use super::sqs_batch::{batch_response, received};
use crate::adapters::http::{HttpSender, LazyHttpSender, SenderConfig};
use crate::adapters::secrets::{read_ingest_secret, read_portal_key, SecretReadError};
use crate::api::admin::AdminApi;
use crate::api::ingest::IngestApi;
use crate::api::portal::PortalApi;
use crate::app::admin::AdminSettings;
use crate::app::ingest::IngestSettings;
use crate::domain::event::EventLimits;
use crate::domain::portal::PortalKey;
use crate::domain::signature::Secret;
use crate::ports::Sender;
use crate::system::{AwsBackend, QueueUrls, Settings, System};

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretReadError),
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
}

impl WiringError {
    /// The `errorType` of the init error Lambda records (`Category.Reason`).
    pub fn error_type(&self) -> &'static str {
        match self {
            WiringError::Config(_) => "Runtime.ConfigError",
            WiringError::Secret(_) => "Runtime.SecretError",
            WiringError::Http(_) => "Runtime.InitError",
        }
    }
}

/// The SDK's configuration from the default chain (`AWS_ENDPOINT_URL` points it at a local
/// SQS/DynamoDB API such as moto).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The deployment's system over clients from `sdk`.
fn system(
    sdk: &SdkConfig,
    resources: &Resources,
    settings: Settings,
    sender: Arc<dyn Sender>,
) -> Result<System, WiringError> {
    let settings = Settings {
        priority_types: config::priority_types_from_env()?,
        ..settings
    };
    let backend = AwsBackend::new(
        &aws_sdk_dynamodb::Client::new(sdk),
        &aws_sdk_sqs::Client::new(sdk),
        &resources.tables(),
        &QueueUrls {
            deliveries: resources.deliveries_queue_url.clone(),
            ordered: resources.ordered_queue_url.clone(),
            priority: (resources.priority_queue_url.clone())
                .unwrap_or_else(|| resources.deliveries_queue_url.clone()),
            dlq: resources.dlq_url.clone(),
            // No function sends there; the harness field points at the DLQ functions do.
            ordered_dlq: resources.dlq_url.clone(),
        },
    );
    Ok(backend.deployed(sender).settings(settings).build())
}

/// The worker's sender, built now: a client that cannot be built fails the cold start.
fn sender(allow_private: bool) -> Result<Arc<dyn Sender>, WiringError> {
    let sender = HttpSender::new(SenderConfig {
        allow_private,
        ..SenderConfig::default()
    })
    .map_err(|e| WiringError::Http(e.to_string()))?;
    Ok(Arc::new(sender))
}

/// For the functions that never deliver: the system needs a sender, the cold start need
/// not build its TLS client.
fn unused_sender() -> Arc<dyn Sender> {
    Arc::new(LazyHttpSender::new(SenderConfig::default()))
}

/// The producers' secret from where the environment says: read from Secrets Manager once
/// here, at cold start, so no request waits for it and no configuration holds it.
async fn ingest_secret(sdk: &SdkConfig) -> Result<Option<Secret>, WiringError> {
    Ok(match config::ingest_secret_source_from_env()? {
        IngestSecretSource::Iam => None,
        IngestSecretSource::Value(secret) => Some(secret),
        IngestSecretSource::SecretsManager { arn, version_id } => {
            let client = aws_sdk_secretsmanager::Client::new(sdk);
            Some(read_ingest_secret(&client, &arn, version_id.as_deref()).await?)
        }
    })
}

/// The ingest function's API, configured from the environment.
pub async fn ingest_api() -> Result<IngestApi, WiringError> {
    let resources = Resources::from_env()?;
    let sdk = sdk_config().await;
    let settings = Settings {
        ingest: IngestSettings {
            limits: EventLimits {
                max_event_bytes: config::max_event_bytes_from_env()?,
                ..EventLimits::default()
            },
            secret: ingest_secret(&sdk).await?,
            ..IngestSettings::default()
        },
        endpoint_cache: config::endpoint_cache_from_env()?,
        ..Settings::default()
    };
    Ok(system(&sdk, &resources, settings, unused_sender())?.ingest_api())
}

/// The tenant portal's key, where the environment names its secret.
async fn portal_key(sdk: &SdkConfig) -> Result<Option<PortalKey>, WiringError> {
    match config::portal_key_arn_from_env() {
        None => Ok(None),
        Some(arn) => {
            let client = aws_sdk_secretsmanager::Client::new(sdk);
            Ok(Some(read_portal_key(&client, &arn).await?))
        }
    }
}

/// The admin use cases' settings: the URL policy, and the portal's key and address when
/// the stack has a portal.
async fn admin_settings(sdk: &SdkConfig) -> Result<AdminSettings, WiringError> {
    Ok(AdminSettings {
        policy: config::url_policy_from_env()?,
        portal_key: portal_key(sdk).await?,
        portal_url: config::portal_url_from_env(),
        ..AdminSettings::default()
    })
}

/// The admin function's API: never cached, so what it shows is what is stored.
pub async fn admin_api() -> Result<AdminApi, WiringError> {
    let resources = Resources::from_env()?;
    let sdk = sdk_config().await;
    let settings = Settings {
        admin: admin_settings(&sdk).await?,
        admin_token: config::admin_token_from_env(),
        ..Settings::default()
    };
    Ok(system(&sdk, &resources, settings, unused_sender())?.admin_api())
}

/// The portal function's API: the admin use cases narrowed to one tenant per request.
pub async fn portal_api() -> Result<PortalApi, WiringError> {
    let resources = Resources::from_env()?;
    let sdk = sdk_config().await;
    let settings = Settings {
        admin: admin_settings(&sdk).await?,
        ..Settings::default()
    };
    system(&sdk, &resources, settings, unused_sender())?
        .portal_api()
        .ok_or(WiringError::Config(ConfigError::Missing(
            "AUTHHOOKS_PORTAL_KEY_SECRET_ARN",
        )))
}

/// The worker function: delivers each SQS batch and reports the messages to redeliver.
pub struct Worker {
    worker: Arc<crate::app::Worker>,
    endpoint_metrics: bool,
    metrics: MetricsOut,
}

impl Worker {
    pub async fn from_env() -> Result<Self, WiringError> {
        let resources = Resources::from_env()?;
        let policy = config::url_policy_from_env()?;
        let sender = sender(policy.allow_private)?;
        let mut settings = Settings {
            endpoint_cache: config::endpoint_cache_from_env()?,
            ..Settings::default()
        };
        settings.worker.success_log_sample = config::success_log_sample_from_env()?;
        let system = system(&sdk_config().await, &resources, settings, sender)?;
        Ok(Self::new(&system).endpoint_metrics(config::endpoint_metrics_from_env()?))
    }

    /// Totals only, to stdout.
    pub fn new(system: &System) -> Self {
        Self {
            worker: system.worker.clone(),
            endpoint_metrics: false,
            metrics: metrics::stdout(),
        }
    }

    /// Whether each endpoint's metrics are written too.
    pub fn endpoint_metrics(mut self, on: bool) -> Self {
        self.endpoint_metrics = on;
        self
    }

    pub fn metrics_out(mut self, out: MetricsOut) -> Self {
        self.metrics = out;
        self
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let report = self.worker.work(received(event)).await;
        let now = chrono::Utc::now().timestamp_millis();
        for line in emf_lines(&report, now, self.endpoint_metrics) {
            (self.metrics)(&line);
        }
        let t = &report.totals;
        tracing::info!(
            delivered = t.delivered,
            retried = t.retried,
            deferred_circuit = t.deferred_circuit,
            deferred_rate = t.deferred_rate,
            deferred_busy = t.deferred_busy,
            gathering = t.gathering,
            dead_lettered = t.dead_lettered,
            duplicates = t.duplicates,
            held = t.held,
            fanned_out = report.fanned_out,
            redeliver = report.failed.len(),
            "batch done"
        );
        batch_response(report.failed)
    }
}

/// The dlq function: records each dead letter once.
pub struct Recorder {
    recorder: Arc<crate::app::Recorder>,
    metrics: MetricsOut,
}

impl Recorder {
    pub async fn from_env() -> Result<Self, WiringError> {
        let resources = Resources::from_env()?;
        let sdk = sdk_config().await;
        let system = system(&sdk, &resources, Settings::default(), unused_sender())?;
        Ok(Self::new(&system))
    }

    pub fn new(system: &System) -> Self {
        Self {
            recorder: system.recorder.clone(),
            metrics: metrics::stdout(),
        }
    }

    pub fn metrics_out(mut self, out: MetricsOut) -> Self {
        self.metrics = out;
        self
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let report = self.recorder.record(received(event)).await;
        for id in &report.unreadable {
            tracing::error!(message_id = %id, "dead letter is no delivery job; acknowledged");
        }
        if let Some(line) = recorder_line(&report, chrono::Utc::now().timestamp_millis()) {
            (self.metrics)(&line);
        }
        tracing::info!(
            recorded = report.recorded,
            redriven = report.redriven,
            duplicates = report.duplicates,
            fan_outs_returned = report.fan_outs_returned,
            redeliver = report.failed.len(),
            "dead letters recorded"
        );
        batch_response(report.failed)
    }
}
