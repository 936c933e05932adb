//! Test support: a whole authhooks system over the in-memory adapters, driven by a manual
//! clock, with a scripted sender standing in for the network.

pub mod chaos;
pub mod json;
pub mod lambda;
pub mod local;
pub mod moto;
pub mod oracle;
pub mod receiver;
pub mod scheme_oracle;
pub mod sender;
pub mod stripe_oracle;
pub mod world;

pub use oracle::verify_with_python;
pub use receiver::{reset_server, RawScript, RawServer, Receiver, Recorded};
pub use sender::{Reply, ScriptedSender, Sent};
pub use world::World;
