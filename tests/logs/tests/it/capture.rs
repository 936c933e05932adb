//! The capturing subscriber: the functions' own (`telemetry::json_subscriber`, the JSON lines
//! they ship) with every target at `trace` (ours and every dependency's: hyper, reqwest, the
//! AWS SDK, axum, tower, `log` records too), writing into memory; and the checks run over
//! what it caught.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use authhooks::lambda::telemetry::json_subscriber;

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static CAPTURED: OnceLock<Captured> = OnceLock::new();

/// The process's one subscriber, installed on first use. Tests of a binary share it: each
/// looks for its own needles in every line, so a leak in one test may fail another too.
pub fn captured() -> &'static Captured {
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        // As the functions log on Lambda, with everything at its most verbose: what a
        // dependency logs at trace reaches CloudWatch as soon as an operator sets
        // RUST_LOG=trace.
        json_subscriber(EnvFilter::new("trace"), captured.clone()).init();
        captured
    })
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Every line, parsed: a line that is not JSON would not be one CloudWatch record.
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// Panics on a line that is not JSON, or naming the first needle found in any line, with
    /// that line.
    pub fn assert_free_of(&self, needles: &[String]) {
        self.lines();
        let text = self.text();
        // authhooks logs nothing at trace: trace lines show the dependencies are heard.
        assert!(
            text.contains(r#""level":"TRACE""#),
            "no dependency was heard at trace:\n{text}"
        );
        for needle in needles {
            assert!(
                needle.len() >= 8,
                "a needle too short to mean anything: {needle:?}"
            );
            if let Some(line) = text.lines().find(|l| l.contains(needle.as_str())) {
                panic!("a log line contains {needle:?}:\n{line}");
            }
        }
    }
}

/// A `whsec_` secret as a leak could show it: whole, or its base64 core.
pub fn secret_forms(secret: &str) -> Vec<String> {
    let core = secret.trim_start_matches("whsec_").trim_end_matches('=');
    vec![secret.to_owned(), core.to_owned()]
}

/// The base64 HMACs of a `webhook-signature` header (`v1,<b64> v1,<b64>`).
pub fn signature_values(header: &str) -> Vec<String> {
    header
        .split(' ')
        .map(|s| s.trim_start_matches("v1,").trim_end_matches('=').to_owned())
        .collect()
}
