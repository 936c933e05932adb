//! Everything the services are configured with, in one place, with the defaults local mode
//! and the tests run under.

use std::time::Duration;

use crate::app::admin::AdminSettings;
use crate::app::deliver::WorkerSettings;
use crate::app::ingest::IngestSettings;
use crate::domain::endpoint::UrlPolicy;
use crate::domain::priority::PriorityTypes;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub ingest: IngestSettings,
    /// The URL policy lives here (`admin.policy`): it is admin that validates endpoints.
    pub admin: AdminSettings,
    pub worker: WorkerSettings,
    /// How long ingest and the worker reuse endpoint reads (zero: never; admin never does).
    pub endpoint_cache: Duration,
    /// The admin API's bearer token; `None` where IAM authenticates instead.
    pub admin_token: Option<String>,
    /// The event types whose unordered deliveries take the priority lane.
    pub priority_types: PriorityTypes,
}

impl Settings {
    /// Local mode's and the tests' policy: http and loopback destinations allowed.
    pub fn permissive() -> Self {
        Self {
            admin: AdminSettings {
                policy: UrlPolicy {
                    allow_http: true,
                    allow_private: true,
                },
                ..AdminSettings::default()
            },
            ..Self::default()
        }
    }
}
