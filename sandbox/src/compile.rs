//! Scripts compiled once: QuickJS bytecode, kept by the SHA-256 of the source, so a run
//! loads it rather than parsing the source again (about half a run's cost otherwise,
//! docs/architecture.md §3.16).

use std::collections::HashMap;
use std::sync::Mutex;

use rquickjs::{Ctx, Module, WriteOptions};
use sha2::{Digest, Sha256};

use crate::bytecode::Compiled;
use crate::run::{engine, handler_of, prelude, settle, Fault};
use crate::{Limits, ScriptError, MAX_SCRIPT_BYTES};

/// How many compiled scripts are kept; past it the cache starts over (scripts are few:
/// one a source and one an endpoint that transforms).
const MAX_CACHED: usize = 512;

/// What the handler is exported as, appended to the script: a module's top level is the
/// script's own scope, so `function handler` and `const handler = …` both work.
const EXPORT: &str = "\n;export default (typeof handler === 'function' ? handler : undefined);\n";

#[derive(Debug, Default)]
pub(crate) struct Cache(Mutex<HashMap<[u8; 32], Compiled>>);

impl Cache {
    pub(crate) fn get_or_compile(
        &self,
        source: &str,
        limits: &Limits,
    ) -> Result<Compiled, ScriptError> {
        if source.len() > MAX_SCRIPT_BYTES {
            return Err(ScriptError::TooLong(source.len()));
        }
        let key: [u8; 32] = Sha256::digest(source.as_bytes()).into();
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        let compiled = compile(source, limits)?;
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, compiled.clone());
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Compiled>> {
        // A panic while holding the lock leaves a map that is still whole: go on with it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Compiles `source` to bytecode, then evaluates it once under the run limits to check that
/// it defines a handler (its top level runs here as in every run, so one that loops or
/// throws is refused now rather than at its first event).
fn compile(source: &str, limits: &Limits) -> Result<Compiled, ScriptError> {
    let engine = engine(limits)?;
    engine.context.with(|ctx| {
        let text = format!("{source}{EXPORT}");
        let declared = Module::declare(ctx.clone(), "script", text)
            .map_err(|e| syntax(&ctx, e, &engine.fault))?;
        let bytecode = declared
            .write(WriteOptions::default())
            .map_err(|e| ScriptError::Engine(e.to_string()))?;
        // The top level runs here as in a run: the same built-ins, clock at the epoch.
        prelude(&ctx, 0, &engine.fault)?;
        let (module, promise) = declared.eval().map_err(|e| engine.fault.of(&ctx, e))?;
        settle::<()>(&ctx, promise.into_value(), &engine.fault)?;
        handler_of(&ctx, &module, &engine.fault)?;
        Ok(Compiled::written(bytecode))
    })
}

/// A declaration error is the parser's: a syntax error with where it is.
fn syntax(ctx: &Ctx<'_>, error: rquickjs::Error, fault: &Fault) -> ScriptError {
    match fault.of(ctx, error) {
        ScriptError::Threw(message) => ScriptError::Syntax(message),
        other => other,
    }
}
