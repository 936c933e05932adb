//! Percentiles over sorted samples and the plain-text result tables.

use std::fmt;
use std::time::Duration;

use comfy_table::Table as Comfy;

/// The `q` quantile (nearest rank) of sorted samples, in milliseconds; 0 when empty.
pub fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

pub struct Table(Comfy);

impl Table {
    pub fn new(header: &[&str]) -> Self {
        let mut table = Comfy::new();
        table.set_header(header.to_vec());
        Self(table)
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.0.add_row(cells);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
