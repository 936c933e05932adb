//! What the machine was doing around a measurement: this process's CPU time (so a run
//! can be judged by CPU per delivery, which a loaded machine distorts far less than
//! throughput) and the load average, reported beside every figure.

use std::time::Duration;

/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time of this whole process (every thread), if `/proc` has it.
pub fn process_cpu() -> Option<Duration> {
    cpu_of("self")
}

/// User plus system CPU time of process `pid` (a number, or `self`), every thread.
pub fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// CPU milliseconds per unit of work between two readings, if both were read and there
/// was work.
pub fn cpu_per_unit_ms(
    before: Option<Duration>,
    after: Option<Duration>,
    units: u64,
) -> Option<f64> {
    match (before, after) {
        (Some(before), Some(after)) if units > 0 => {
            Some(after.saturating_sub(before).as_secs_f64() * 1000.0 / units as f64)
        }
        _ => None,
    }
}

/// The 1-, 5- and 15-minute load averages as `uptime` prints them, or "?".
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|line| {
            line.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "?".to_owned())
}
