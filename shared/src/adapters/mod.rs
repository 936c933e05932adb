//! Adapters: the ports' implementations. `memory` is always built; the AWS and HTTP
//! adapters are feature-gated.

pub mod memory;
