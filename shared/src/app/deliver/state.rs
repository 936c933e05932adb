//! Compare-and-set over an endpoint's state item: read, decide with a pure function, write
//! if nobody wrote in between, else decide again on what they wrote.

use super::Worker;
use crate::domain::admission::EndpointState;
use crate::domain::ids::EndpointId;
use crate::ports::PortError;

/// Applies `decide` to the endpoint's current state until its result is stored (or there
/// was nothing to store), in at most the worker's `cas_rounds`, and returns what `decide`
/// said alongside.
pub(super) async fn update<T>(
    worker: &Worker,
    id: &EndpointId,
    decide: impl Fn(&EndpointState) -> (T, EndpointState),
) -> Result<(T, EndpointState), PortError> {
    let (store, rounds) = (worker.state.as_ref(), worker.settings.cas_rounds);
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
