//! What every admin handler serves from: the ports, the settings and the token.

use crate::api::Services;
use crate::app::admin::{AdminPorts, AdminSettings};

pub struct AdminApi {
    pub services: Services,
    pub settings: AdminSettings,
    /// The bearer token callers must present; `None` when IAM authenticates instead.
    pub token: Option<String>,
}

impl AdminApi {
    pub(super) fn ports(&self) -> AdminPorts<'_> {
        AdminPorts {
            endpoints: self.services.endpoints.as_ref(),
            failures: self.services.failures.as_ref(),
            queue: self.services.queue.as_ref(),
            idempotency: self.services.idempotency.as_ref(),
        }
    }
}
