//! Everything printed on stdout: readable tables by default, the raw JSON with `--json`.
//!
//! Writes go through [`line`] rather than `println!`, which panics when the reader of a pipe
//! goes away (`authhooks endpoints list | head -1`).

use std::fmt::Display;
use std::io::{ErrorKind, Write};

use authhooks::domain::signature::Secret;
use authhooks::wire::List;
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;

/// Prints one line (or block) on stdout. A closed pipe is not an error: the reader has
/// seen all it wanted.
pub fn line(text: impl Display) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(CliError::io("cannot write output", e)),
        _ => Ok(()),
    }
}

/// A note on stderr that is not the command's failure (that is main's one `error:` line).
pub fn warn(text: impl Display) {
    // Nowhere left to report a failure to write to stderr.
    let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
}

/// An answer as JSON, pretty-printed with its members in name order: the server's answer
/// as it was decoded.
pub fn json(value: &impl Serialize) -> Result<(), CliError> {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    line(serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()))
}

/// A table with a header row and no borders, like `kubectl get`.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    for row in rows {
        table.add_row(row);
    }
    tidy(table)
}

/// Two columns, field and value, for one object.
pub fn details(pairs: impl IntoIterator<Item = (&'static str, String)>) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    for (field, value) in pairs {
        table.add_row(vec![field.to_owned(), value]);
    }
    tidy(table)
}

/// Flush left with two spaces between columns and no trailing blanks, so lines are easy
/// to `grep` and `cut`.
fn tidy(mut table: Table) -> String {
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JSON value as a table cell: strings bare, null as `-`, the rest as compact JSON.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// A field of a typed answer as a table cell, written as [`cell`] writes its JSON form.
pub fn field(value: &impl Serialize) -> String {
    cell(serde_json::to_value(value).ok().as_ref())
}

/// Points at the next page of a list, when there is one.
pub fn next_page<T>(answer: &List<T>, command: &str) -> Result<(), CliError> {
    match &answer.next_cursor {
        Some(cursor) => line(format!("\nmore: {command} --cursor {cursor}")),
        None => Ok(()),
    }
}

/// A signing secret, shown once on purpose (create and rotate) and labelled as such.
pub fn secret(label: &str, secret: &Secret) -> Result<(), CliError> {
    let secret = secret.expose();
    line(format!("\n{label} (shown once; store it now):\n  {secret}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_plain_text() {
        assert_eq!(cell(None), "-");
        assert_eq!(cell(Some(&json!(null))), "-");
        assert_eq!(cell(Some(&json!("a"))), "a");
        assert_eq!(
            cell(Some(&json!(["user.*", "session.revoked"]))),
            "user.*,session.revoked"
        );
        assert_eq!(cell(Some(&json!(3))), "3");
    }

    #[test]
    fn tables_line_up_without_borders() {
        let t = table(&["id", "url"], [vec!["ep_1".into(), "http://x".into()]]);
        assert_eq!(t, "ID    URL\nep_1  http://x");
    }
}
