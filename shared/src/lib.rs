//! authhooks: reliable, signed webhooks for identity events.
//!
//! The crate is layered so that each consumer takes only what it needs:
//! - [`domain`] is pure: validation, matching, signing, retry timing, circuit and rate-limit
//!   arithmetic, outcome classification. It is all a webhook receiver needs
//!   (`default-features = false`).
//! - `ports` (feature `app`) are the small async traits the use cases run over, with
//!   in-memory adapters in `adapters::memory` that behave like the real ones.
//! - `app` (feature `app`) holds the use cases the Lambdas and local mode run, as services
//!   that own their ports; `system` assembles them, once, for every caller.
//! - [`wire`] holds the HTTP APIs' bodies as serde types, for the routers and their clients.

pub mod domain;

#[cfg(feature = "app")]
pub mod adapters;
#[cfg(feature = "http")]
pub mod api;
#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "app")]
pub mod ports;
#[cfg(feature = "app")]
pub mod system;
#[cfg(feature = "app")]
pub mod telemetry;
pub mod wire;
