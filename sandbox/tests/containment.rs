//! What a script can and cannot do: every way of running away (time, memory, stack,
//! output), throwing or answering nonsense ends in a clear error; nothing outside the
//! language (network, files, clock, randomness) is reachable; runs share nothing.

#![allow(clippy::unwrap_used)]

use authhooks_sandbox::{Limits, Sandbox, ScriptError, MAX_LOG_LINES};

const NOW_MS: i64 = 1_764_583_200_000; // 2025-12-01T10:00:00Z

fn sandbox() -> Sandbox {
    Sandbox::new(Limits::default())
}

fn run(script: &str, input: &str) -> Result<Option<String>, ScriptError> {
    sandbox()
        .run(script, input, NOW_MS)
        .map(|o| o.output)
        .map_err(|f| f.error)
}

#[test]
fn a_handler_maps_its_input_to_json() {
    let script = r#"
        function handler(request) {
          const doc = request.body.doc;
          return [{ type: "user.updated", subject: doc.id, data: { id: doc.id, name: doc.name } }];
        }"#;
    let out = run(script, r#"{"body":{"doc":{"id":"u_1","name":"Ada"}}}"#).unwrap();
    assert_eq!(
        out.as_deref(),
        Some(r#"[{"type":"user.updated","subject":"u_1","data":{"id":"u_1","name":"Ada"}}]"#)
    );
}

#[test]
fn undefined_and_null_are_no_answer() {
    assert_eq!(run("function handler() {}", "{}").unwrap(), None);
    assert_eq!(run("const handler = () => null;", "{}").unwrap(), None);
}

#[test]
fn an_async_handler_is_awaited() {
    let script =
        "async function handler(x) { const y = await Promise.resolve(x.n + 1); return {y}; }";
    assert_eq!(
        run(script, r#"{"n":1}"#).unwrap().as_deref(),
        Some(r#"{"y":2}"#)
    );
    let never = "function handler() { return new Promise(() => {}); }";
    assert!(matches!(run(never, "{}"), Err(ScriptError::Threw(m)) if m.contains("never settles")));
}

#[test]
fn a_loop_that_never_ends_is_stopped_at_the_time_limit_even_if_it_catches() {
    let limits = Limits {
        time: std::time::Duration::from_millis(30),
        ..Limits::default()
    };
    let sandbox = Sandbox::new(limits);
    for script in [
        "function handler() { for (;;) {} }",
        "function handler() { try { for (;;) {} } catch (e) { return 'escaped'; } }",
        "async function handler() { for (;;) { await null; } }",
    ] {
        assert_eq!(
            sandbox.run(script, "{}", NOW_MS).map_err(|f| f.error),
            Err(ScriptError::TimedOut(30)),
            "{script}"
        );
    }
    // At the top level, the script is refused when it is compiled.
    assert_eq!(
        sandbox
            .compile("while (true) {} function handler() {}")
            .unwrap_err(),
        ScriptError::TimedOut(30)
    );
}

#[test]
fn allocating_without_bound_runs_out_of_its_own_memory() {
    let bytes = Limits::default().memory_bytes;
    for script in [
        "function handler() { return 'x'.repeat(1e9).length; }",
        "function handler() { return new Array(1e8).fill(1).length; }",
        "function handler() { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)); }",
    ] {
        assert_eq!(
            run(script, "{}"),
            Err(ScriptError::OutOfMemory(bytes)),
            "{script}"
        );
    }
    // Many small allocations end at one limit or the other, the collector working harder
    // as memory fills.
    let small = run(
        "function handler() { const a = []; for (;;) a.push('x'.repeat(1024) + a.length); }",
        "{}",
    );
    assert!(
        matches!(
            small,
            Err(ScriptError::OutOfMemory(_) | ScriptError::TimedOut(_))
        ),
        "{small:?}"
    );
    // The next run starts with all of its memory again.
    assert_eq!(
        run("function handler() { return 1; }", "{}")
            .unwrap()
            .as_deref(),
        Some("1")
    );
}

#[test]
fn deep_recursion_overflows_the_scripts_stack_not_the_process() {
    let err = run(
        "function f(n) { return f(n + 1) + 1; } function handler() { return f(0); }",
        "{}",
    );
    assert_eq!(err, Err(ScriptError::StackOverflow));
}

#[test]
fn what_a_script_throws_comes_back_with_where() {
    let script = "function handler(x) {\n  if (!x.doc) throw new TypeError('no doc');\n}";
    match run(script, "{}") {
        Err(ScriptError::Threw(message)) => {
            assert!(message.contains("no doc"), "{message}");
            assert!(message.contains("script:2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run("function handler() { throw 'plain text'; }", "{}"),
        Err(ScriptError::Threw("plain text".into()))
    );
    assert!(
        matches!(run("function handler(x) { return x.a.b; }", "{}"), Err(ScriptError::Threw(m)) if m.contains("TypeError") || m.contains("undefined"))
    );
}

#[test]
fn an_answer_that_is_no_json_is_refused() {
    for script in [
        "function handler() { return () => 1; }",
        "function handler() { return { n: 10n }; }",
        "function handler() { const a = {}; a.a = a; return a; }",
    ] {
        assert!(
            matches!(run(script, "{}"), Err(ScriptError::NotJson(_))),
            "{script}"
        );
    }
    let limits = Limits {
        output_bytes: 100,
        ..Limits::default()
    };
    let big = Sandbox::new(limits).run(
        "function handler() { return 'x'.repeat(200); }",
        "{}",
        NOW_MS,
    );
    assert_eq!(
        big.map_err(|f| f.error),
        Err(ScriptError::OutputTooLarge(100))
    );
}

#[test]
fn there_is_no_network_file_system_timer_or_host_to_reach() {
    let script = r#"function handler() {
        return [typeof fetch, typeof XMLHttpRequest, typeof require, typeof process, typeof std,
                typeof os, typeof setTimeout, typeof setInterval, typeof performance,
                typeof WebSocket, typeof Deno, typeof Bun, typeof scriptArgs, typeof print];
    }"#;
    let out = run(script, "{}").unwrap().unwrap();
    let kinds: Vec<String> = serde_json::from_str(&out).unwrap();
    assert!(kinds.iter().all(|k| k == "undefined"), "{kinds:?}");
    // No module can be imported: there is no loader.
    for import in [
        "import * as std from 'std'; function handler() {}",
        "import fs from 'fs'; function handler() {}",
    ] {
        assert!(sandbox().compile(import).is_err(), "{import}");
    }
    let dynamic = "async function handler() { const os = await import('os'); return typeof os; }";
    assert!(matches!(run(dynamic, "{}"), Err(ScriptError::Threw(_))));
}

#[test]
fn the_clock_is_the_one_given_and_randomness_is_refused() {
    let script = "function handler() { return [Date.now(), new Date().toISOString(), new Date(0).getTime(), new Date() instanceof Date]; }";
    assert_eq!(
        run(script, "{}").unwrap().as_deref(),
        Some(r#"[1764583200000,"2025-12-01T10:00:00.000Z",0,true]"#)
    );
    assert!(
        matches!(run("function handler() { return Math.random(); }", "{}"), Err(ScriptError::Threw(m)) if m.contains("Math.random"))
    );
}

#[test]
fn runs_share_nothing() {
    let sandbox = sandbox();
    let script = "let n = 0; function handler() { globalThis.seen = (globalThis.seen || 0) + 1; n += 1; return [n, globalThis.seen]; }";
    for _ in 0..3 {
        assert_eq!(
            sandbox.run(script, "{}", NOW_MS).unwrap().output.as_deref(),
            Some("[1,1]")
        );
    }
}

#[test]
fn scripts_that_do_not_compile_or_define_no_handler_are_refused_when_compiled() {
    match sandbox().compile("function handler( {") {
        Err(ScriptError::Syntax(message)) => assert!(message.contains("(script:"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sandbox().compile("function other() {}").unwrap_err(),
        ScriptError::NoHandler
    );
    assert_eq!(
        sandbox().compile("const handler = 3;").unwrap_err(),
        ScriptError::NoHandler
    );
    let long = format!("function handler() {{}}//{}", "x".repeat(70_000));
    assert!(matches!(
        sandbox().compile(&long),
        Err(ScriptError::TooLong(_))
    ));
}

#[test]
fn console_lines_are_kept_up_to_a_bound() {
    let out = sandbox()
        .run(
            "function handler(x) { console.log('got', x, 1); for (let i = 0; i < 500; i++) console.warn(i); }",
            r#"{"a":1}"#,
            NOW_MS,
        )
        .unwrap();
    assert_eq!(
        out.logs.first().map(String::as_str),
        Some(r#"got {"a":1} 1"#)
    );
    assert_eq!(out.logs.len(), MAX_LOG_LINES);
}

#[test]
fn what_a_run_logged_before_it_failed_is_kept() {
    let failed = sandbox()
        .run(
            "function handler(x) { console.log('looking at', x.kind); throw new Error('no'); }",
            r#"{"kind":"order"}"#,
            NOW_MS,
        )
        .unwrap_err();
    assert!(matches!(failed.error, ScriptError::Threw(_)));
    assert_eq!(failed.logs, ["looking at order"]);
    let limits = Limits {
        time: std::time::Duration::from_millis(20),
        ..Limits::default()
    };
    let timed_out = Sandbox::new(limits)
        .run(
            "function handler() { console.log('start'); for (;;) {} }",
            "{}",
            NOW_MS,
        )
        .unwrap_err();
    assert_eq!(
        (timed_out.error, timed_out.logs),
        (ScriptError::TimedOut(20), vec!["start".to_owned()])
    );
}

#[test]
fn the_top_level_sees_the_same_built_ins_when_compiled_as_when_run() {
    let script =
        "console.log('loaded'); const started = Date.now(); function handler() { return started; }";
    sandbox().compile(script).unwrap();
    let out = sandbox().run(script, "{}", NOW_MS).unwrap();
    assert_eq!(out.output.as_deref(), Some("1764583200000"));
    assert_eq!(out.logs, ["loaded"]);
    assert!(sandbox()
        .compile("const r = Math.random(); function handler() {}")
        .is_err());
}
