//! Running the real `authhooks` binary: a clean environment, stdin fed or closed, and the
//! checks every misuse must pass (one `error:` line on stderr, no panic, the right code).

pub mod admin;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_authhooks");

/// The command with no `AUTHHOOKS_*` variables leaking in from the developer's shell.
pub fn authhooks(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AUTHHOOKS_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs to completion with `stdin` as its input (empty, not a terminal, when `None`).
pub fn run(mut command: Command, stdin: Option<&[u8]>) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn authhooks");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exactly one line on stderr, starting `error: `, no panic, exit `code`. Returns the line.
pub fn one_error_line(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.lines().count(), 1, "stderr was: {err:?}");
    assert!(err.starts_with("error: "), "stderr was: {err:?}");
    assert!(err.ends_with('\n'));
    assert_eq!(output.status.code(), Some(code), "stderr was: {err:?}");
    err.trim_end().to_owned()
}

/// A scratch file holding `contents`, removed with the directory when the test ends.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("authhooks-cli-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves `app` on 127.0.0.1 on a free port; returns its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// [`run`] off the async runtime, so the test's own server keeps answering meanwhile.
pub async fn run_async(command: Command, stdin: Option<Vec<u8>>) -> Output {
    tokio::task::spawn_blocking(move || run(command, stdin.as_deref()))
        .await
        .unwrap()
}

/// A port nothing listens on: bound, then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
