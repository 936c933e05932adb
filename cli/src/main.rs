//! The `authhooks` command. Local mode and the admin client are not built yet; for now it
//! prints its version and says so.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("authhooks {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!("authhooks: no commands are available in this build yet");
    ExitCode::FAILURE
}
