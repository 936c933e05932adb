//! What the sandbox answers a use case (§3.16): a run's output and logs, or why it gave
//! none; and what a script stored on a source or an endpoint must be before the engine is
//! asked. The engine itself is an adapter (`adapters::scripts`); the core knows only this.

/// A run that answered: the handler's return value as JSON (`None` for `null` or
/// `undefined`) and the lines it logged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScriptRun {
    pub output: Option<String>,
    pub logs: Vec<String>,
}

/// A script that did not compile or a run that gave no answer: the script's own error or
/// the limit it hit, as text (never the input). `busy`: every script thread was taken and
/// the run was not attempted — try again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScriptFailure {
    pub message: String,
    pub busy: bool,
    /// What the run logged before it stopped.
    pub logs: Vec<String>,
}

impl ScriptFailure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            busy: false,
            logs: Vec::new(),
        }
    }
}

/// The longest script: the sandbox's own limit, repeated so the pure core needs no engine
/// (`adapters::scripts` has a test holding the two together).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// A script's text as a body gives it: not blank, at most [`MAX_SCRIPT_BYTES`]. Whether it
/// compiles is the engine's to say.
pub fn check_script(text: &str) -> Result<(), String> {
    if !text.trim().is_empty() && text.len() <= MAX_SCRIPT_BYTES {
        Ok(())
    } else {
        Err(format!(
            "must be a non-empty script of at most {MAX_SCRIPT_BYTES} bytes"
        ))
    }
}
