//! A compiled script: QuickJS bytecode this process wrote, and the one place it is loaded
//! back (the workspace's one `unsafe` block).

use std::sync::Arc;

use rquickjs::{Ctx, Module};

/// A script as bytecode this process wrote. Only the compile cache makes one, from source, so the
/// bytes are always QuickJS's own output for the engine linked here.
#[derive(Debug, Clone)]
pub struct Compiled {
    bytecode: Arc<[u8]>,
}

impl Compiled {
    /// What `Module::write` gave for a script just compiled (`compile`); nothing else.
    pub(crate) fn written(bytecode: Vec<u8>) -> Self {
        Self {
            bytecode: bytecode.into(),
        }
    }
}

/// The module in `compiled`, declared in `ctx`.
pub(crate) fn load<'js>(
    ctx: &Ctx<'js>,
    compiled: &Compiled,
) -> rquickjs::Result<Module<'js, rquickjs::module::Declared>> {
    // SAFETY: `Module::load` needs bytes that are valid QuickJS bytecode. A `Compiled` is
    // only ever made by `compile::compile` from `Module::write` of the engine linked into
    // this process, and is never stored or received from anywhere else.
    #[allow(unsafe_code)]
    unsafe {
        Module::load(ctx.clone(), &compiled.bytecode)
    }
}
