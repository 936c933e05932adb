//! The logs, captured as the JSON lines Lambda would ship with every target at `trace`
//! (dependencies included): a delivery's lines name its event, delivery and endpoint, and no
//! line of a delivery, a refused request, a secret rotation or a failure carries a secret, a
//! signature, the admin token, a response snippet or any part of the payload. In local mode
//! (`admin`, `delivery`, `rejected`) and in the Lambda functions over moto (`lambda`: a failed
//! cold start, one with the SDK's credential chain and the ingest secret from Secrets
//! Manager, a refused and an accepted ingest, a delivery answered 500, its dead letter and
//! failure record with the dlq function's metric, a secret rotation; `errors`: the
//! adapters' errors).
//!
//! A crate of its own, so that the process-global subscriber these tests install (`capture`)
//! catches only their lines, and the workspace's other integration tests (`tests/tests/it`)
//! run without a `trace` subscriber over them.

mod admin;
mod capture;
mod delivery;
mod errors;
mod lambda;
mod local;
mod rejected;
mod sampling;
