//! One module per command group; each turns parsed arguments into requests and output.

pub mod deliveries;
mod endpoint_args;
mod endpoint_view;
pub mod endpoints;
pub mod failures;
pub mod listen;
pub mod portal;
pub mod send;
pub mod sources;
pub mod verify;
