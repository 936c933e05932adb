//! The CLI's integration tests, one binary (one link): a module per command, each running the
//! `authhooks` binary as a process; `common` holds what they share.

// A test's unwrap is its assertion; clippy.toml's test allowance does not reach the helper
// functions outside `#[test]` bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_admin;
mod cli_console;
mod cli_listen;
mod cli_misuse;
mod cli_send;
mod cli_sources;
mod cli_verify;
mod common;
mod otlp_export;
mod quick_start;
