//! Local mode (`authhooks dev`): ingest, admin, worker and dlq in one process on loopback,
//! through the same routers and use cases the Lambdas run, over in-memory adapters with
//! real delays — or over any SQS/DynamoDB API (`--aws-endpoint`).

mod backend;
pub mod gates;
pub mod inbox;
pub mod pump;
mod serve;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::adapters::http::{HttpSender, SenderConfig};
use crate::api::admin::not_found_fallback;
use crate::app::ingest::IngestSettings;
use crate::domain::portal::PortalKey;
use crate::domain::priority::PriorityTypes;
use crate::domain::signature::Secret;
use crate::ports::PortError;
use crate::ports::{Entropy as _, SystemEntropy};
use crate::system::Settings;

pub use backend::Backend;
pub use serve::ServerLimits;

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub addr: SocketAddr,
    pub admin_token: String,
    pub ingest_secret: Secret,
    /// An SQS/DynamoDB API to use instead of memory (moto, or AWS itself).
    pub aws_endpoint: Option<String>,
    /// Concurrent worker consumers, each delivering a batch of up to ten at a time.
    pub workers: usize,
    /// The HTTP server's timeouts and connection cap.
    pub limits: ServerLimits,
    /// The event types on the priority lane (domain::priority).
    pub priority_types: PriorityTypes,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
    #[error("the AWS resources could not be set up: {0}")]
    Aws(#[from] PortError),
}

/// A running local system; [`LocalMode::shutdown`] drains it.
pub struct LocalMode {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    consumers: Vec<JoinHandle<()>>,
    backend: Backend,
}

impl LocalMode {
    pub async fn start(config: LocalConfig) -> Result<Self, LocalError> {
        // Local mode delivers to loopback (that is where a developer's receiver is); cloud
        // metadata addresses stay refused.
        let sender = HttpSender::new(SenderConfig {
            allow_private: true,
            ..SenderConfig::default()
        })
        .map_err(|e| LocalError::Http(e.to_string()))?;
        let mut settings = Settings {
            ingest: IngestSettings {
                secret: Some(config.ingest_secret.clone()),
                ..IngestSettings::default()
            },
            admin_token: Some(config.admin_token.clone()),
            priority_types: config.priority_types.clone(),
            ..Settings::permissive()
        };
        // A key of this process's own: portal links last as long as it runs.
        settings.admin.portal_key = Some(PortalKey::new(SystemEntropy.bytes32()));
        let backend =
            Backend::new(config.aws_endpoint.as_deref(), Arc::new(sender), settings).await?;
        let system = &backend.system;
        let app = not_found_fallback(
            system
                .ingest_router()
                .merge(system.admin_and_console_router()),
        );

        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| LocalError::Bind {
                addr: config.addr,
                reason: e.to_string(),
            })?;
        let addr = listener.local_addr().map_err(|e| LocalError::Bind {
            addr: config.addr,
            reason: e.to_string(),
        })?;

        let (stop, stopped) = watch::channel(false);
        let mut server_stop = stopped.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stop.changed().await;
            };
            serve::serve(listener, app, config.limits, shutdown).await;
        });

        // As many consumers on the ordered queue as on the standard one: it serves as many
        // lines at once as it has consumers. The priority lane has as many again, so a
        // backlog on the others never stands between it and a consumer.
        let mut consumers: Vec<JoinHandle<()>> = Vec::new();
        let gates = gates::Gates::new(system.worker.settings.max_in_flight);
        let inboxes = [
            &backend.deliveries_inbox,
            &backend.ordered_inbox,
            &backend.priority_inbox,
        ];
        for inbox in inboxes {
            let worker = pump::WorkerParts {
                inbox: inbox.clone(),
                worker: (*system.worker).clone(),
                gates: gates.clone(),
            };
            consumers.extend(
                (0..config.workers.max(1))
                    .map(|_| tokio::spawn(pump::run_worker(worker.clone(), stopped.clone()))),
            );
        }
        if let Some(state) = backend.memory_state.clone() {
            consumers.push(tokio::spawn(pump::forget_expired(state, stopped.clone())));
        }
        for inbox in &backend.dlq_inboxes {
            consumers.push(tokio::spawn(pump::run_recorder(
                inbox.clone(),
                system.recorder.clone(),
                stopped.clone(),
            )));
        }

        Ok(Self {
            addr,
            stop,
            server,
            consumers,
            backend,
        })
    }

    /// Stops taking requests, lets every batch in hand finish, and says how many queued
    /// deliveries stay behind (in memory they are lost with the process).
    pub async fn shutdown(self) -> usize {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        for consumer in self.consumers {
            let _ = consumer.await;
        }
        self.backend.pending()
    }
}
