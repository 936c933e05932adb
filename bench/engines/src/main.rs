//! Per-run cost of the inbound mapping in each engine, and whether each can stop a script
//! that loops or allocates without bound. Prints a table; the figures go to
//! docs/architecture.md §3.16 with the machine they were taken on.

use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
function handler(request) {
  const { collection, operation, doc, previousDoc } = request.body;
  if (collection !== "users" || operation !== "update") return null;
  const changed = ["name", "email", "image"].filter((k) => doc[k] !== (previousDoc || {})[k]);
  return [{ type: "user.updated", subject: doc.betterAuthId, id: "payload_" + doc.id + "_" + doc.updatedAt,
            data: { user: { id: doc.betterAuthId, name: doc.name, email: doc.email }, changed } }];
}
"#;
const INPUT: &str = r#"{"body":{"collection":"users","operation":"update","doc":{"id":"64f","betterAuthId":"u_1","email":"a@example.com","name":"Ada L","updatedAt":"2026-12-01T10:00:00Z"},"previousDoc":{"id":"64f","email":"a@example.com","name":"Ada"}},"headers":{"content-type":"application/json"}}"#;

/// Mean wall time of `f` over `n` runs after a warm-up.
fn per(n: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

#[cfg(feature = "quickjs")]
mod quickjs {
    use rquickjs::context::intrinsic;
    use rquickjs::{Context, Function, Module, Runtime, Value, WriteOptions};

    fn engine() -> (Runtime, Context) {
        let rt = Runtime::new().unwrap();
        rt.set_memory_limit(32 << 20);
        let ctx = Context::builder()
            .with::<intrinsic::Eval>()
            .with::<intrinsic::Date>()
            .with::<intrinsic::RegExpCompiler>()
            .with::<intrinsic::RegExp>()
            .with::<intrinsic::Json>()
            .with::<intrinsic::MapSet>()
            .with::<intrinsic::Promise>()
            .build(&rt)
            .unwrap();
        (rt, ctx)
    }

    fn call<'js>(ctx: &rquickjs::Ctx<'js>, f: Function<'js>, input: &str) -> String {
        let out: Value = f.call((ctx.json_parse(input).unwrap(),)).unwrap();
        ctx.json_stringify(out).unwrap().unwrap().to_string().unwrap()
    }

    pub fn start() {
        let _ = engine();
    }

    /// A fresh engine, the source parsed and run.
    pub fn from_source(src: &str, input: &str) -> String {
        let (_rt, ctx) = engine();
        ctx.with(|ctx| {
            ctx.eval::<(), _>(src).unwrap();
            call(&ctx, ctx.globals().get("handler").unwrap(), input)
        })
    }

    pub fn compile(src: &str) -> Vec<u8> {
        let (_rt, ctx) = engine();
        ctx.with(|ctx| {
            let m = Module::declare(ctx.clone(), "s", format!("{src}\nexport default handler;")).unwrap();
            m.write(WriteOptions::default()).unwrap()
        })
    }

    /// A fresh engine, the bytecode loaded and run: what the sandbox does.
    #[allow(unsafe_code)]
    pub fn from_bytecode(bytecode: &[u8], input: &str) -> String {
        let (_rt, ctx) = engine();
        ctx.with(|ctx| {
            // SAFETY: `bytecode` is `compile`'s output from this very engine.
            let m = unsafe { Module::load(ctx.clone(), bytecode).unwrap() };
            let (m, p) = m.eval().unwrap();
            p.finish::<()>().unwrap();
            call(&ctx, m.get("default").unwrap(), input)
        })
    }

    /// One engine kept and its handler called again (no isolation between runs).
    pub fn warm(src: &str) -> impl FnMut(&str) -> String {
        let (rt, ctx) = engine();
        ctx.with(|ctx| ctx.eval::<(), _>(src).unwrap());
        move |input| {
            let _ = &rt;
            ctx.with(|ctx| call(&ctx, ctx.globals().get("handler").unwrap(), input))
        }
    }

    /// Bytes the engine holds at the end of a run, before it is dropped: what one run costs
    /// in memory.
    #[allow(unsafe_code)]
    pub fn memory_of_a_run(bytecode: &[u8], input: &str) -> i64 {
        let (rt, ctx) = engine();
        ctx.with(|ctx| {
            // SAFETY: `bytecode` is `compile`'s output from this very engine.
            let m = unsafe { Module::load(ctx.clone(), bytecode).unwrap() };
            let (m, p) = m.eval().unwrap();
            p.finish::<()>().unwrap();
            drop(call(&ctx, m.get("default").unwrap(), input));
        });
        rt.memory_usage().malloc_size
    }

    /// Whether a run that allocates without bound is stopped by the memory limit.
    pub fn stops_allocation() -> bool {
        let (_rt, ctx) = engine();
        ctx.with(|ctx| ctx.eval::<(), _>("const a = []; for (;;) a.push(new Array(1e5).fill(1));").is_err())
    }

    /// Whether a run that loops forever is stopped by a 50 ms deadline.
    pub fn stops_loop() -> bool {
        let (rt, ctx) = engine();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(50);
        rt.set_interrupt_handler(Some(Box::new(move || std::time::Instant::now() > deadline)));
        ctx.with(|ctx| ctx.eval::<(), _>("for (;;) {}").is_err())
    }
}

#[cfg(feature = "boa")]
mod boa {
    use boa_engine::{js_string, Context, JsValue, Source};

    pub fn start() {
        let _ = Context::default();
    }

    pub fn from_source(src: &str, input: &str) -> String {
        let mut ctx = Context::default();
        ctx.eval(Source::from_bytes(src)).unwrap();
        let f = ctx.global_object().get(js_string!("handler"), &mut ctx).unwrap();
        let v = JsValue::from_json(&serde_json::from_str(input).unwrap(), &mut ctx).unwrap();
        let out = f.as_callable().unwrap().call(&JsValue::undefined(), &[v], &mut ctx).unwrap();
        out.to_json(&mut ctx).unwrap().unwrap().to_string()
    }

    /// Boa has loop-iteration and recursion limits, and no memory limit.
    pub fn stops_loop() -> bool {
        let mut ctx = Context::default();
        ctx.runtime_limits_mut().set_loop_iteration_limit(10_000_000);
        ctx.eval(Source::from_bytes("for (;;) {}")).is_err()
    }
}

fn row(engine: &str, what: &str, value: String) {
    println!("| {engine} | {what} | {value} |");
}

fn main() {
    let n = 2_000;
    println!("| engine | measure | value |\n|---|---|---|");
    #[cfg(feature = "quickjs")]
    {
        let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
        assert!(quickjs::from_source(SCRIPT, INPUT).contains("user.updated"));
        row("QuickJS", "runtime + context", us(per(n, quickjs::start)));
        row("QuickJS", "run, fresh engine, source parsed", us(per(n, || drop(quickjs::from_source(SCRIPT, INPUT)))));
        let bytecode = quickjs::compile(SCRIPT);
        row("QuickJS", "run, fresh engine, bytecode loaded", us(per(n, || drop(quickjs::from_bytecode(&bytecode, INPUT)))));
        let mut warm = quickjs::warm(SCRIPT);
        row("QuickJS", "run, engine kept (no isolation)", us(per(n * 10, || drop(warm(INPUT)))));
        let kib = quickjs::memory_of_a_run(&bytecode, INPUT) as f64 / 1024.0;
        row("QuickJS", "memory held by a run's engine", format!("{kib:.0} KiB"));
        row("QuickJS", "stops an endless loop", quickjs::stops_loop().to_string());
        row("QuickJS", "stops unbounded allocation", quickjs::stops_allocation().to_string());
    }
    #[cfg(feature = "boa")]
    {
        let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
        assert!(boa::from_source(SCRIPT, INPUT).contains("user.updated"));
        row("Boa", "context", us(per(n / 4, boa::start)));
        row("Boa", "run, fresh context, source parsed", us(per(n / 4, || drop(boa::from_source(SCRIPT, INPUT)))));
        row("Boa", "memory held by a run's engine", "no API to read it".into());
        row("Boa", "stops an endless loop", boa::stops_loop().to_string());
        row("Boa", "stops unbounded allocation", "no memory limit exists".into());
    }
}
