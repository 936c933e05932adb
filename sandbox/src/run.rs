//! One run: a fresh QuickJS runtime and context under the limits, the prelude that takes
//! away what would make a run depend on more than its input (the clock, randomness), the
//! script's bytecode, its handler called on the input, and the answer as JSON.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use rquickjs::context::intrinsic;
use rquickjs::{Array, Context, Ctx, Function, Module, Promise, Runtime, Value};

use crate::bytecode::{load, Compiled};
use crate::{Failed, Limits, Outcome, ScriptError, MAX_LOG_LINES, MAX_LOG_LINE_CHARS};

/// Runs before the script in every context, as plain global code evaluating to a function
/// of `now`. `Date` answers `now` for "the current time"; `Math.random` throws, since a
/// retried delivery must be transformed as its first attempt was; `console.*` keeps lines
/// for whoever looks at the run.
const PRELUDE: &str = r#"(function (now) {
  "use strict";
  const RealDate = Date;
  function FixedDate(...args) {
    if (!new.target) return new RealDate(now).toString();
    return args.length === 0 ? new RealDate(now) : new RealDate(...args);
  }
  FixedDate.prototype = RealDate.prototype;
  FixedDate.now = () => now;
  FixedDate.parse = RealDate.parse;
  FixedDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", { value: FixedDate });
  globalThis.Date = FixedDate;
  Math.random = () => {
    throw new Error("Math.random is not available: a script answers the same for the same input");
  };
  const lines = [];
  const text = (a) => {
    if (typeof a === "string") return a;
    try { return JSON.stringify(a) ?? String(a); } catch (_) { return String(a); }
  };
  const log = (...args) => {
    if (lines.length < MAX_LINES) lines.push(args.map(text).join(" ").slice(0, MAX_CHARS));
  };
  globalThis.console = Object.freeze({ log, info: log, warn: log, error: log, debug: log });
  return lines;
})"#;

/// [`PRELUDE`] with its bounds filled in, once.
static PRELUDE_TEXT: LazyLock<String> = LazyLock::new(|| {
    PRELUDE
        .replace("MAX_LINES", &MAX_LOG_LINES.to_string())
        .replace("MAX_CHARS", &MAX_LOG_LINE_CHARS.to_string())
});

/// A runtime and its one context, built for one compile or run.
pub(crate) struct Engine {
    pub(crate) context: Context,
    pub(crate) fault: Fault,
    // Dropped after the context, which holds it too.
    _runtime: Runtime,
}

/// Turns the engine's errors into [`ScriptError`]s, knowing whether the time limit fired.
pub(crate) struct Fault {
    timed_out: Arc<AtomicBool>,
    limits: Limits,
}

/// A runtime under `limits`, its clock started, and a context with the language and none
/// of the host: no `performance`, no timers, no modules to import, no I/O.
pub(crate) fn engine(limits: &Limits) -> Result<Engine, ScriptError> {
    let runtime = Runtime::new().map_err(|e| ScriptError::Engine(e.to_string()))?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(limits.stack_bytes);
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let deadline = Instant::now() + limits.time;
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let over = Instant::now() >= deadline;
        if over {
            flag.store(true, Ordering::Relaxed);
        }
        over
    })));
    let context = Context::builder()
        .with::<intrinsic::Eval>()
        .with::<intrinsic::Date>()
        .with::<intrinsic::RegExpCompiler>()
        .with::<intrinsic::RegExp>()
        .with::<intrinsic::Json>()
        .with::<intrinsic::MapSet>()
        .with::<intrinsic::Promise>()
        .build(&runtime)
        .map_err(|_| ScriptError::OutOfMemory(limits.memory_bytes))?;
    Ok(Engine {
        context,
        fault: Fault {
            timed_out,
            limits: *limits,
        },
        _runtime: runtime,
    })
}

impl Fault {
    /// Whether the time limit stopped the run (a job it interrupted may leave no error).
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }

    /// The script error behind `error`: the limit that stopped the run, or what it threw.
    pub(crate) fn of(&self, ctx: &Ctx<'_>, error: rquickjs::Error) -> ScriptError {
        if self.timed_out() {
            return ScriptError::TimedOut(self.limits.time.as_millis());
        }
        match error {
            rquickjs::Error::Exception => self.thrown(ctx.catch()),
            rquickjs::Error::Allocation => ScriptError::OutOfMemory(self.limits.memory_bytes),
            other => ScriptError::Threw(other.to_string()),
        }
    }

    fn thrown(&self, value: Value<'_>) -> ScriptError {
        let (message, place) = match value.as_exception() {
            Some(exception) => (
                exception.message().unwrap_or_default(),
                exception.stack().and_then(|stack| first_frame(&stack)),
            ),
            None => (describe(&value), None),
        };
        // QuickJS reports its own limits as errors of these texts.
        match message.as_str() {
            "out of memory" => ScriptError::OutOfMemory(self.limits.memory_bytes),
            "stack overflow" | "Maximum call stack size exceeded" => ScriptError::StackOverflow,
            "interrupted" => ScriptError::TimedOut(self.limits.time.as_millis()),
            _ => ScriptError::Threw(match place {
                Some(place) => format!("{message} ({place})"),
                None => message,
            }),
        }
    }
}

/// `script:3:11` from a stack's first frame.
fn first_frame(stack: &str) -> Option<String> {
    let line = stack
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("at "))?;
    let place = line.rsplit_once('(').map_or(line, |(_, p)| p);
    Some(
        place
            .trim_end_matches(')')
            .trim_start_matches("at ")
            .to_owned(),
    )
}

/// A thrown value that is no `Error` (`throw "nope"`, `throw {code: 1}`), as text.
fn describe(value: &Value<'_>) -> String {
    if let Some(s) = value.as_string().and_then(|s| s.to_string().ok()) {
        return s;
    }
    value
        .ctx()
        .json_stringify(value.clone())
        .ok()
        .flatten()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| format!("a thrown {}", value.type_name()))
}

/// `value`, or what it resolves to if it is a promise (an `async` handler, a module's
/// evaluation), running the jobs it waits on under the same limits.
pub(crate) fn settle<'js, T: rquickjs::FromJs<'js>>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    fault: &Fault,
) -> Result<T, ScriptError> {
    let value = if value.is_promise() {
        match value.into_promise() {
            Some(promise) => promise_result(ctx, &promise, fault)?,
            None => return Err(ScriptError::Engine("a promise that is none".into())),
        }
    } else {
        value
    };
    T::from_js(ctx, value).map_err(|e| fault.of(ctx, e))
}

fn promise_result<'js>(
    ctx: &Ctx<'js>,
    promise: &Promise<'js>,
    fault: &Fault,
) -> Result<Value<'js>, ScriptError> {
    promise.finish::<Value>().map_err(|e| match e {
        // A promise nothing will ever settle: no timers or I/O exist to settle it later.
        rquickjs::Error::WouldBlock if !fault.timed_out() => {
            ScriptError::Threw("the handler's promise never settles".into())
        }
        e => fault.of(ctx, e),
    })
}

/// The module's exported handler, or [`ScriptError::NoHandler`].
pub(crate) fn handler_of<'js>(
    ctx: &Ctx<'js>,
    module: &Module<'js, rquickjs::module::Evaluated>,
    fault: &Fault,
) -> Result<Function<'js>, ScriptError> {
    let exported: Value = module.get("default").map_err(|e| fault.of(ctx, e))?;
    exported.into_function().ok_or(ScriptError::NoHandler)
}

/// Installs [`PRELUDE`] in `ctx` with `now_ms` as its clock; the array its `console.*`
/// lines go to.
pub(crate) fn prelude<'js>(
    ctx: &Ctx<'js>,
    now_ms: i64,
    fault: &Fault,
) -> Result<Array<'js>, ScriptError> {
    let install: Function = ctx
        .eval(PRELUDE_TEXT.as_str())
        .map_err(|e| fault.of(ctx, e))?;
    // Milliseconds as a JS number: exact for any date within ±285 000 years.
    #[allow(clippy::cast_precision_loss)]
    install.call((now_ms as f64,)).map_err(|e| fault.of(ctx, e))
}

/// One run of `compiled` over `input` (JSON text) at `now_ms`: its answer, or why there is
/// none; with what it logged either way.
pub(crate) fn run(
    compiled: &Compiled,
    input: &str,
    now_ms: i64,
    limits: &Limits,
) -> Result<Outcome, Failed> {
    let engine = engine(limits).map_err(|error| Failed {
        error,
        logs: Vec::new(),
    })?;
    let fault = &engine.fault;
    engine.context.with(|ctx| {
        let lines = prelude(&ctx, now_ms, fault).map_err(Failed::quiet)?;
        let answered = answer(&ctx, compiled, input, fault);
        // Read after the run, whatever became of it: the lines before a throw are often
        // the clue to it. Reading an array runs no script, so no limit stops it.
        let logs = lines
            .iter::<String>()
            .filter_map(Result::ok)
            .take(MAX_LOG_LINES)
            .collect();
        match answered {
            Ok(output) => Ok(Outcome { output, logs }),
            Err(error) => Err(Failed { error, logs }),
        }
    })
}

/// The script's module evaluated, its handler called on `input`, the answer as JSON.
fn answer<'js>(
    ctx: &Ctx<'js>,
    compiled: &Compiled,
    input: &str,
    fault: &Fault,
) -> Result<Option<String>, ScriptError> {
    let declared = load(ctx, compiled).map_err(|e| fault.of(ctx, e))?;
    let (module, evaluated) = declared.eval().map_err(|e| fault.of(ctx, e))?;
    settle::<()>(ctx, evaluated.into_value(), fault)?;
    let handler = handler_of(ctx, &module, fault)?;
    let input = ctx.json_parse(input).map_err(|e| fault.of(ctx, e))?;
    let answer: Value = handler.call((input,)).map_err(|e| fault.of(ctx, e))?;
    let answer: Value = settle(ctx, answer, fault)?;
    json_of(ctx, answer, fault)
}

/// The answer as JSON text, `None` for `undefined` and `null`.
fn json_of<'js>(
    ctx: &Ctx<'js>,
    answer: Value<'js>,
    fault: &Fault,
) -> Result<Option<String>, ScriptError> {
    if answer.is_undefined() || answer.is_null() {
        return Ok(None);
    }
    let kind = answer.type_name();
    let text = match ctx.json_stringify(answer) {
        Ok(Some(text)) => text.to_string().map_err(|e| fault.of(ctx, e))?,
        Ok(None) => return Err(ScriptError::NotJson(format!("a {kind} has no JSON form"))),
        Err(e) => {
            return Err(match fault.of(ctx, e) {
                ScriptError::Threw(message) => ScriptError::NotJson(message),
                other => other,
            })
        }
    };
    if text.len() > fault.limits.output_bytes {
        return Err(ScriptError::OutputTooLarge(fault.limits.output_bytes));
    }
    Ok(Some(text))
}
