//! Test support: a whole authhooks system over the in-memory adapters, driven by a manual
//! clock, with a scripted sender standing in for the network.

pub mod sender;
pub mod world;

pub use sender::{Reply, ScriptedSender, Sent};
pub use world::World;
