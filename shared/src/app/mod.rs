//! The use cases, as services that own their ports: what the Lambdas and local mode run.
//! They parse nothing from the wire and decide nothing themselves; the domain decides, they
//! sequence. [`crate::system`] builds them once per process.

pub mod admin;
pub mod deliver;
mod deliveries;
pub mod failures;
mod health;
pub mod ingest;
mod portal;
pub mod sources;

pub use admin::Admin;
pub use deliver::Worker;
pub use deliveries::Overview;
pub use failures::Recorder;
pub use ingest::Ingest;
pub use portal::PortalLink;
pub use sources::Sources;
