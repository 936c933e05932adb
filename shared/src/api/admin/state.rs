//! What every admin handler serves from: the admin and source use cases and the token.

use std::sync::Arc;

use crate::api::console::Sessions;
use crate::app::{Admin, Sources};

pub struct AdminApi {
    pub admin: Arc<Admin>,
    pub sources: Arc<Sources>,
    /// The bearer token callers must present; `None` when IAM authenticates instead.
    pub token: Option<String>,
    /// The console's sessions, accepted beside the token where the console is served.
    pub sessions: Option<Arc<Sessions>>,
}
