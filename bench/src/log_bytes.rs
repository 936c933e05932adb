//! The bytes the functions log, as Lambda would ship them to CloudWatch Logs: every line at
//! `info` in the functions' own JSON format and the worker's EMF metrics lines, counted and
//! dropped. `Counter::take` reads them with each case's requests.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use authhooks::lambda::telemetry::json_subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

static BYTES: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Copy)]
struct Counting;

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BYTES.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Counting {
    type Writer = Counting;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Counts from now on, at the functions' default level (`info`).
pub fn install() {
    let _ = json_subscriber(EnvFilter::new("info"), Counting).try_init();
}

/// Counts a line written outside `tracing`: the worker's EMF metrics, which Lambda ships
/// to CloudWatch Logs like any other line on stdout.
pub fn add_line(line: &str) {
    BYTES.fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
}

/// The bytes logged since the last take.
pub fn take() -> u64 {
    BYTES.swap(0, Ordering::Relaxed)
}
