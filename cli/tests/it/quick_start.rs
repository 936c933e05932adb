//! The README's quick start, as a new user runs it: `authhooks dev` in one terminal,
//! `authhooks listen` in another, `authhooks send` in a third — three real processes —
//! and the delivery arrives verified. Then Ctrl-C stops each cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::{authhooks, closed_port, run};

/// A spawned process and its stdout, line by line.
struct Running {
    /// Taken by [`Running::interrupt`]; killed on drop if an assertion left it running.
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn spawn(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child: Some(child),
            lines,
        }
    }

    /// Lines until one satisfies `until`; all of them, that one last.
    fn read_until(&self, until: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no expected line; got {seen:#?}"));
            let done = until(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Ctrl-C; the exit code and what was left on stderr.
    fn interrupt(mut self) -> (Option<i32>, String) {
        let child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `export NAME=value` lines from the banner, as a user would copy them.
fn exports(banner: &[String]) -> Vec<(String, String)> {
    banner
        .iter()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn dev_listen_send_delivers_a_verified_event_and_ctrl_c_stops_everything() {
    let port = closed_port().to_string();
    let dev = Running::spawn(authhooks(&["dev", "--port", &port]));
    let banner = dev.read_until(|l| l.contains("Ctrl-C"));
    assert!(
        banner[0].contains(&format!("http://127.0.0.1:{port}")),
        "{banner:#?}"
    );
    let env = exports(&banner);
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "AUTHHOOKS_URL",
            "AUTHHOOKS_ADMIN_TOKEN",
            "AUTHHOOKS_INGEST_SECRET"
        ]
    );
    assert!(env[2].1.starts_with("whsec_"));

    let mut listen = authhooks(&["listen", "--json"]);
    listen.envs(env.iter().cloned());
    let listener = Running::spawn(listen);
    let hello: Value = serde_json::from_str(&listener.read_until(|_| true)[0]).unwrap();
    let endpoint_id = hello["endpoint_id"].as_str().unwrap().to_owned();

    let mut send = authhooks(&[
        "send",
        "user.created",
        "--data",
        r#"{"user":{"id":"u_1","email":"a@example.com"}}"#,
    ]);
    send.envs(env.iter().cloned());
    let sent = run(send, None);
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let delivery: Value = serde_json::from_str(&listener.read_until(|_| true)[0]).unwrap();
    assert_eq!(delivery["valid"], true, "{delivery}");
    assert_eq!(delivery["type"], "user.created");
    assert_eq!(delivery["attempt"], 1);
    assert_eq!(delivery["body"]["data"]["user"]["email"], "a@example.com");

    let (code, stderr) = listener.interrupt();
    assert_eq!(code, Some(0), "{stderr}");
    let mut get = authhooks(&["endpoints", "get", &endpoint_id]);
    get.envs(env.iter().cloned());
    assert_eq!(
        run(get, None).status.code(),
        Some(1),
        "listen removed its endpoint"
    );

    let (code, stderr) = dev.interrupt();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
