//! Compare-and-set over an endpoint's state item: read, decide with a pure function, write
//! if nobody wrote in between, else decide again on what they wrote.

use crate::domain::admission::EndpointState;
use crate::domain::ids::EndpointId;
use crate::ports::{EndpointStateStore, PortError};

/// Applies `decide` to the endpoint's current state until its result is stored (or there
/// was nothing to store), and returns what `decide` said alongside.
pub(super) async fn update<T>(
    store: &dyn EndpointStateStore,
    id: &EndpointId,
    rounds: u32,
    decide: impl Fn(&EndpointState) -> (T, EndpointState),
) -> Result<(T, EndpointState), PortError> {
    for _ in 0..rounds.max(1) {
        let current = store.load(id).await?;
        let (out, next) = decide(&current.value);
        // An unchanged state needs no write: a closed circuit without a rate limit costs
        // nothing per batch.
        if next == current.value || store.save(id, &next, current.version).await? {
            return Ok((out, next));
        }
    }
    Err(PortError::Unavailable(format!(
        "endpoint {id}: state kept changing under {rounds} compare-and-set rounds"
    )))
}
