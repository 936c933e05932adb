//! Reading files and stdin, byte for byte (a signature covers the exact body, trailing
//! newline included).

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::error::CliError;

/// The file's bytes, or stdin's when the path is `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    if path == Path::new("-") {
        return read_stdin("pipe the input into it");
    }
    std::fs::read(path).map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))
}

/// All of stdin. Refuses a terminal rather than waiting silently for input nobody meant
/// to type; `hint` says what to do instead.
pub fn read_stdin(hint: &str) -> Result<Vec<u8>, CliError> {
    let mut stdin = std::io::stdin().lock();
    if stdin.is_terminal() {
        return Err(CliError::usage(format!("stdin is a terminal: {hint}")));
    }
    let mut bytes = Vec::new();
    stdin
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::io("cannot read stdin", e))?;
    Ok(bytes)
}
