//! The one place the system is assembled: a backend's ports (in memory, or over DynamoDB
//! and SQS clients), any of them replaced before `build()`, and the settings, wired into
//! the services the Lambdas, local mode, the tests and the bench all run.

mod backend;
mod settings;

use std::sync::Arc;

use crate::adapters::cache::{CachedEndpointStore, Current};
use crate::adapters::queues::{DeliveryQueues, FanOutQueues};
use crate::app::{Admin, Ingest, Recorder, Sources, Worker};
use crate::ports::{
    Clock, DeadLetterQueue, DeliveryLog, DeliveryQueue, EndpointStateStore, EndpointStore, Entropy,
    FailureStore, FanOutQueue, IdempotencyStore, QueueHold, QueueRecall, Scripts, Sender,
    SourceStore, Subscribers,
};

pub use backend::{ordered_settings, Backend, MemoryBackend};
#[cfg(feature = "aws")]
pub use backend::{AwsBackend, QueueUrls};
pub use settings::Settings;

/// Every port the services run over. A builder starts from a backend's and may replace any.
#[derive(Clone)]
pub struct Ports {
    pub endpoints: Arc<dyn EndpointStore>,
    pub state: Arc<dyn EndpointStateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub failures: Arc<dyn FailureStore>,
    /// Every attempt, for the console and `GET /v1/deliveries`.
    pub log: Arc<dyn DeliveryLog>,
    /// The standard deliveries queue: unordered jobs, with per-message delays.
    pub queue: Arc<dyn DeliveryQueue>,
    /// The ordered (FIFO) deliveries queue, and the holds on the messages received from it.
    pub ordered_queue: Arc<dyn DeliveryQueue>,
    pub holds: Arc<dyn QueueHold>,
    /// The priority lane's queue: unordered jobs of the priority types (domain::priority).
    pub priority_queue: Arc<dyn DeliveryQueue>,
    /// Fan-out tasks on each deliveries queue: standard, ordered and priority.
    pub fan_out: Arc<dyn FanOutQueue>,
    pub ordered_fan_out: Arc<dyn FanOutQueue>,
    pub priority_fan_out: Arc<dyn FanOutQueue>,
    /// Brings an endpoint's waiting jobs forward on every deliveries queue (`recover`).
    pub recall: Arc<dyn QueueRecall>,
    pub dead_letters: Arc<dyn DeadLetterQueue>,
    /// Inbound sources and their failed requests (§3.16).
    pub sources: Arc<dyn SourceStore>,
    /// The script sandbox (inbound mappings, transformations).
    pub scripts: Arc<dyn Scripts>,
    pub sender: Arc<dyn Sender>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
}

/// Ports and settings, before the services are built from them.
#[derive(Clone)]
pub struct SystemBuilder {
    pub ports: Ports,
    pub settings: Settings,
}

impl SystemBuilder {
    pub fn new(ports: Ports) -> Self {
        Self {
            ports,
            settings: Settings::default(),
        }
    }

    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Replaces one port or more (a failing queue, a watched store, a scripted sender).
    pub fn with(mut self, change: impl FnOnce(&mut Ports)) -> Self {
        change(&mut self.ports);
        self
    }

    pub fn build(self) -> System {
        let Self { ports, settings } = self;
        // Each reader gets a cache of its own, as each Lambda function has; admin reads
        // the store itself, so what it shows is what is stored.
        let cached = || -> (Arc<dyn EndpointStore>, Arc<dyn Subscribers>) {
            if settings.endpoint_cache.is_zero() {
                let current = Arc::new(Current::new(ports.endpoints.clone()));
                (ports.endpoints.clone(), current)
            } else {
                let cache = Arc::new(CachedEndpointStore::new(
                    ports.endpoints.clone(),
                    ports.clock.clone(),
                    settings.endpoint_cache,
                ));
                (cache.clone(), cache)
            }
        };
        // Every sender of jobs and tasks sends through all the queues: each goes to its own.
        let queues: Arc<dyn DeliveryQueue> = Arc::new(DeliveryQueues {
            standard: ports.queue.clone(),
            ordered: ports.ordered_queue.clone(),
            priority: ports.priority_queue.clone(),
            priority_types: settings.priority_types.clone(),
        });
        let fan_out: Arc<dyn FanOutQueue> = Arc::new(FanOutQueues {
            standard: ports.fan_out.clone(),
            ordered: ports.ordered_fan_out.clone(),
            priority: ports.priority_fan_out.clone(),
            priority_types: settings.priority_types.clone(),
        });
        let (_, subscribers) = cached();
        let ingest = Arc::new(Ingest {
            subscribers,
            idempotency: ports.idempotency.clone(),
            queue: queues.clone(),
            fan_out: fan_out.clone(),
            clock: ports.clock.clone(),
            entropy: ports.entropy.clone(),
            sequencer: Arc::default(),
            settings: settings.ingest.clone(),
        });
        let (endpoints, subscribers) = cached();
        let worker = Worker {
            endpoints,
            subscribers,
            state: ports.state.clone(),
            idempotency: ports.idempotency.clone(),
            queue: queues.clone(),
            fan_out: fan_out.clone(),
            holds: ports.holds.clone(),
            dead_letters: ports.dead_letters.clone(),
            notices: ingest.clone(),
            log: ports.log.clone(),
            sender: ports.sender.clone(),
            scripts: ports.scripts.clone(),
            clock: ports.clock.clone(),
            entropy: ports.entropy.clone(),
            settings: settings.worker.clone(),
            in_flight: Arc::default(),
        };
        let admin = Admin {
            endpoints: ports.endpoints.clone(),
            state: ports.state.clone(),
            recall: ports.recall.clone(),
            failures: ports.failures.clone(),
            log: ports.log.clone(),
            queue: queues,
            idempotency: ports.idempotency.clone(),
            scripts: ports.scripts.clone(),
            clock: ports.clock.clone(),
            entropy: ports.entropy.clone(),
            settings: settings.admin.clone(),
        };
        let sources = Sources {
            store: ports.sources.clone(),
            scripts: ports.scripts.clone(),
            ingest: ingest.clone(),
            clock: ports.clock.clone(),
            entropy: ports.entropy.clone(),
        };
        let recorder = Recorder {
            failures: ports.failures.clone(),
            fan_out: fan_out.clone(),
            clock: ports.clock.clone(),
        };
        System {
            ingest,
            admin: Arc::new(admin),
            worker: Arc::new(worker),
            recorder: Arc::new(recorder),
            sources: Arc::new(sources),
            admin_token: settings.admin_token,
            ports,
        }
    }
}

/// The assembled system: the four services over one set of ports.
#[derive(Clone)]
pub struct System {
    pub ingest: Arc<Ingest>,
    pub admin: Arc<Admin>,
    pub worker: Arc<Worker>,
    pub recorder: Arc<Recorder>,
    pub sources: Arc<Sources>,
    admin_token: Option<String>,
    /// The ports it was built from, for a harness that inspects or pumps them.
    pub ports: Ports,
}

#[cfg(feature = "http")]
impl System {
    /// `POST /v1/events`.
    pub fn ingest_router(&self) -> axum::Router {
        crate::api::ingest::router(Arc::new(self.ingest_api()))
    }

    /// The admin API, guarded by the admin token when one is set.
    pub fn admin_router(&self) -> axum::Router {
        crate::api::admin::router(Arc::new(self.admin_api()))
    }

    pub fn ingest_api(&self) -> crate::api::ingest::IngestApi {
        crate::api::ingest::IngestApi {
            ingest: self.ingest.clone(),
            sources: self.sources.clone(),
        }
    }

    pub fn admin_api(&self) -> crate::api::admin::AdminApi {
        crate::api::admin::AdminApi {
            admin: self.admin.clone(),
            sources: self.sources.clone(),
            token: self.admin_token.clone(),
            sessions: None,
        }
    }

    /// The admin API and the console (`/console/`) over one set of console sessions, where
    /// an admin token guards the API (local mode), and the tenant portal (`/portal/`) where
    /// a portal key signs its links; the admin API alone where IAM guards it.
    pub fn admin_and_console_router(&self) -> axum::Router {
        use crate::api::console::{ConsoleApi, Sessions};
        let Some(token) = self.admin_token.clone() else {
            return self.admin_router();
        };
        let sessions = Arc::new(Sessions::new(
            self.ports.clock.clone(),
            self.ports.entropy.clone(),
        ));
        let admin = crate::api::admin::AdminApi {
            sessions: Some(sessions.clone()),
            ..self.admin_api()
        };
        let router = crate::api::admin::router(Arc::new(admin)).merge(crate::api::console::router(
            Arc::new(ConsoleApi { sessions, token }),
        ));
        match self.portal_api() {
            Some(portal) => router.merge(crate::api::portal::router(Arc::new(portal))),
            None => router,
        }
    }

    /// The tenant portal, where a portal key is set.
    pub fn portal_api(&self) -> Option<crate::api::portal::PortalApi> {
        let key = self.admin.settings.portal_key.clone()?;
        Some(crate::api::portal::PortalApi {
            admin: self.admin.clone(),
            key,
        })
    }
}
