//! Builds what a function needs once per cold start: the SDK configuration, the clients,
//! the adapters over them, and the use case's handler.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use super::config::{self, ConfigError, Resources};
use super::metrics::emf_lines;
use super::sqs_batch::{batch_response, received};
use crate::adapters::cache::CachedEndpointStore;
use crate::adapters::dynamodb::{DynamoEndpointStore, DynamoFailureStore, DynamoStateStore};
use crate::adapters::http::{HttpSender, SenderConfig};
use crate::adapters::sqs::SqsQueue;
use crate::api::admin::AdminApi;
use crate::api::ingest::IngestApi;
use crate::api::Services;
use crate::app::admin::AdminSettings;
use crate::app::deliver::{deliver_batch, WorkerPorts, WorkerSettings};
use crate::app::failures::record_failures;
use crate::app::ingest::IngestSettings;
use crate::app::Env;
use crate::domain::event::EventLimits;
use crate::ports::{EndpointStore, SystemClock, SystemEntropy};

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
}

/// The SDK's configuration from the default chain (`AWS_ENDPOINT_URL` points it at a local
/// SQS/DynamoDB API such as moto).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Every adapter over the deployment's tables and queues.
pub struct Adapters {
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<DynamoStateStore>,
    pub failures: Arc<DynamoFailureStore>,
    pub deliveries: Arc<SqsQueue>,
    pub dlq: Arc<SqsQueue>,
}

impl Adapters {
    /// `endpoint_cache`: how long endpoint reads are reused (zero: never).
    pub fn new(sdk: &SdkConfig, resources: &Resources, endpoint_cache: Duration) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let direct: Arc<dyn EndpointStore> = Arc::new(DynamoEndpointStore::new(
            dynamo.clone(),
            resources.endpoints_table.clone(),
        ));
        let endpoints: Arc<dyn EndpointStore> = if endpoint_cache.is_zero() {
            direct
        } else {
            Arc::new(CachedEndpointStore::new(
                direct,
                Arc::new(SystemClock),
                endpoint_cache,
            ))
        };
        Self {
            endpoints,
            state: Arc::new(DynamoStateStore::new(
                dynamo.clone(),
                resources.state_table.clone(),
            )),
            failures: Arc::new(DynamoFailureStore::new(
                dynamo,
                resources.failures_table.clone(),
            )),
            deliveries: Arc::new(SqsQueue::new(
                sqs.clone(),
                resources.deliveries_queue_url.clone(),
            )),
            dlq: Arc::new(SqsQueue::new(sqs, resources.dlq_url.clone())),
        }
    }

    pub fn services(&self) -> Services {
        Services {
            endpoints: self.endpoints.clone(),
            idempotency: self.state.clone(),
            failures: self.failures.clone(),
            queue: self.deliveries.clone(),
            clock: Arc::new(SystemClock),
            entropy: Arc::new(SystemEntropy),
        }
    }
}

/// The ingest function's API, configured from the environment.
pub async fn ingest_api() -> Result<IngestApi, WiringError> {
    let resources = Resources::from_env()?;
    let settings = IngestSettings {
        limits: EventLimits {
            max_event_bytes: config::max_event_bytes_from_env()?,
            ..EventLimits::default()
        },
        secret: config::ingest_secret_from_env()?,
        ..IngestSettings::default()
    };
    let cache = config::endpoint_cache_from_env()?;
    let adapters = Adapters::new(&sdk_config().await, &resources, cache);
    Ok(IngestApi {
        services: adapters.services(),
        settings,
    })
}

/// The admin function's API: never cached, so what it shows is what is stored.
pub async fn admin_api() -> Result<AdminApi, WiringError> {
    let resources = Resources::from_env()?;
    let adapters = Adapters::new(&sdk_config().await, &resources, Duration::ZERO);
    Ok(AdminApi {
        services: adapters.services(),
        settings: AdminSettings {
            policy: config::url_policy_from_env()?,
            rotation_grace: Duration::from_secs(24 * 3600),
        },
        token: config::admin_token_from_env(),
    })
}

/// The worker function: delivers each SQS batch and reports the messages to redeliver.
pub struct Worker {
    adapters: Adapters,
    sender: HttpSender,
    settings: WorkerSettings,
}

impl Worker {
    pub async fn from_env() -> Result<Self, WiringError> {
        let resources = Resources::from_env()?;
        let policy = config::url_policy_from_env()?;
        let sender = HttpSender::new(SenderConfig {
            allow_private: policy.allow_private,
            ..SenderConfig::default()
        })
        .map_err(|e| WiringError::Http(e.to_string()))?;
        let cache = config::endpoint_cache_from_env()?;
        let adapters = Adapters::new(&sdk_config().await, &resources, cache);
        Ok(Self::new(adapters, sender, WorkerSettings::default()))
    }

    pub fn new(adapters: Adapters, sender: HttpSender, settings: WorkerSettings) -> Self {
        Self {
            adapters,
            sender,
            settings,
        }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let ports = WorkerPorts {
            endpoints: self.adapters.endpoints.as_ref(),
            state: self.adapters.state.as_ref(),
            idempotency: self.adapters.state.as_ref(),
            queue: self.adapters.deliveries.as_ref(),
            dead_letters: self.adapters.dlq.as_ref(),
            sender: &self.sender,
        };
        let env = Env {
            clock: &SystemClock,
            entropy: &SystemEntropy,
        };
        let report = deliver_batch(&ports, &self.settings, env, received(event)).await;
        for line in emf_lines(&report, chrono::Utc::now().timestamp_millis()) {
            // Straight to stdout, unformatted: CloudWatch reads metrics from raw EMF lines.
            println!("{line}");
        }
        tracing::info!(
            delivered = report.delivered,
            retried = report.retried,
            deferred_circuit = report.deferred_circuit,
            deferred_rate = report.deferred_rate,
            dead_lettered = report.dead_lettered,
            duplicates = report.duplicates,
            redeliver = report.failed.len(),
            "batch done"
        );
        batch_response(report.failed)
    }
}

/// The dlq function: records each dead letter once.
pub struct Recorder {
    failures: Arc<DynamoFailureStore>,
}

impl Recorder {
    pub async fn from_env() -> Result<Self, WiringError> {
        let resources = Resources::from_env()?;
        let adapters = Adapters::new(&sdk_config().await, &resources, Duration::ZERO);
        Ok(Self::new(adapters.failures))
    }

    pub fn new(failures: Arc<DynamoFailureStore>) -> Self {
        Self { failures }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let env = Env {
            clock: &SystemClock,
            entropy: &SystemEntropy,
        };
        let report = record_failures(self.failures.as_ref(), env, received(event)).await;
        for id in &report.unreadable {
            tracing::error!(message_id = %id, "dead letter is no delivery job; acknowledged");
        }
        tracing::info!(
            recorded = report.recorded,
            duplicates = report.duplicates,
            redeliver = report.failed.len(),
            "dead letters recorded"
        );
        batch_response(report.failed)
    }
}
