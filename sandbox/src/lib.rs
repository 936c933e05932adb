//! The script sandbox: administrators' JavaScript — a source's mapping of another system's
//! webhook into events, an endpoint's transformation of its deliveries — run in QuickJS
//! (rquickjs) with a CPU-time limit, a memory limit, a stack limit and a bound on what it
//! returns, and with no network, file system, timers or clock: the one notion of time a
//! script has is the `now` it is given, so the same input gives the same answer, run after
//! run (a retried delivery is transformed as its first attempt was).
//!
//! A script defines `function handler(input) { … }` (it may be `async`); the input arrives
//! as JSON and the answer leaves as JSON. Each run gets a runtime and context of its own —
//! nothing a run leaves behind reaches the next — over bytecode compiled once per script and
//! kept (`compile`), so a run pays no parse. docs/architecture.md §3.16 has the contract and
//! the measurements the engine was chosen by.

mod bytecode;
mod compile;
mod run;

use std::time::Duration;

pub use bytecode::Compiled;

/// What one run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time of the run, the engine's own start included; on a run that does not
    /// wait (there is nothing to wait on), that is its CPU time.
    pub time: Duration,
    /// Everything the engine allocates for the run.
    pub memory_bytes: usize,
    /// The interpreter's stack: deep recursion fails here, not in the process.
    pub stack_bytes: usize,
    /// The JSON the handler returns.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_millis(100),
            memory_bytes: 32 << 20,
            stack_bytes: 256 << 10,
            output_bytes: 1 << 20,
        }
    }
}

/// What a run produced: the handler's answer as JSON (`None` when it returned `undefined`
/// or `null`), and what it logged with `console.*` (at most [`MAX_LOG_LINES`] lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub output: Option<String>,
    pub logs: Vec<String>,
}

/// A run that gave no answer: why, and what it logged before it stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct Failed {
    pub error: ScriptError,
    pub logs: Vec<String>,
}

impl Failed {
    /// A failure before the script could log anything.
    pub(crate) fn quiet(error: ScriptError) -> Self {
        Self {
            error,
            logs: Vec::new(),
        }
    }
}

/// How many `console.*` lines a run keeps, and how long each may be.
pub const MAX_LOG_LINES: usize = 50;
pub const MAX_LOG_LINE_CHARS: usize = 1000;
/// The longest script accepted.
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// Why a script did not compile or a run gave no answer. The texts are the script's own
/// (its error message and where) or name the limit it hit; they never hold the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("the script is {0} bytes; at most {MAX_SCRIPT_BYTES} are accepted")]
    TooLong(usize),
    #[error("the script does not compile: {0}")]
    Syntax(String),
    #[error("the script defines no `function handler(input)`")]
    NoHandler,
    #[error("the script threw: {0}")]
    Threw(String),
    #[error("the script ran past its {0} ms limit")]
    TimedOut(u128),
    #[error("the script used more than its {0} bytes of memory")]
    OutOfMemory(usize),
    #[error("the script recursed past its stack limit")]
    StackOverflow,
    #[error("the script's answer is not JSON: {0}")]
    NotJson(String),
    #[error("the script's answer is over {0} bytes")]
    OutputTooLarge(usize),
    #[error("the script engine could not start: {0}")]
    Engine(String),
}

/// Compiles and runs scripts under one set of limits, each script compiled once.
#[derive(Debug, Default)]
pub struct Sandbox {
    limits: Limits,
    compiled: compile::Cache,
}

impl Sandbox {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            compiled: compile::Cache::default(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Compiles `source` (or finds it compiled): what an API checks a script with before
    /// storing it.
    pub fn compile(&self, source: &str) -> Result<Compiled, ScriptError> {
        self.compiled.get_or_compile(source, &self.limits)
    }

    /// Runs `source`'s handler over `input` (JSON text) at `now_ms` (milliseconds since the
    /// epoch: what `Date.now()` and `new Date()` answer).
    pub fn run(&self, source: &str, input: &str, now_ms: i64) -> Result<Outcome, Failed> {
        let compiled = self.compile(source).map_err(Failed::quiet)?;
        run::run(&compiled, input, now_ms, &self.limits)
    }
}
