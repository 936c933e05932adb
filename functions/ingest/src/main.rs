//! The ingest Lambda's entry point. It only wires configuration, adapters and the runtime to
//! the use case in `authhooks::app`; the AWS adapters it needs are not part of the
//! workspace yet, so for now it refuses to start rather than pretend to run.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "authhooks-ingest {}: the AWS adapters are not built yet; run `authhooks dev` locally",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
