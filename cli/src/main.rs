//! The `authhooks` command: the argument tree, dispatch, and the one place where a failure
//! becomes a single `error: …` line on stderr and an exit code.

mod client;
mod commands;
mod console;
mod dev;
mod error;
mod input;
mod output;
mod problem;
mod sigv4;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use crate::client::{Conn, Token};
use crate::commands::deliveries::{self, DeliveriesCommand};
use crate::commands::endpoints::EndpointsCommand;
use crate::commands::failures::{EventsCommand, FailuresCommand};
use crate::commands::portal::{self, PortalCommand};
use crate::commands::sources::{self, SourcesCommand};
use crate::commands::{endpoints, failures, listen, send, verify};
use crate::error::CliError;

/// Reliable, signed webhooks for identity events: run locally, send, listen, verify, and
/// administer endpoints and failures.
#[derive(Parser)]
#[command(name = "authhooks", version)]
struct Cli {
    #[command(flatten)]
    conn: Conn,
    /// Print JSON (the server's answer) instead of tables, for scripts
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run ingest, delivery and the admin API in one local process
    Dev(dev::DevArgs),
    /// The console for a deployed stack: a local page calling its admin API, signed with
    /// your AWS credentials
    Console(console::ConsoleArgs),
    /// Send a signed event (or a batch from a file) to ingest
    Send(send::SendArgs),
    /// Receive deliveries locally: subscribe, verify and print each one
    Listen(listen::ListenArgs),
    /// Check a webhook's signature: prints `valid` or `invalid: <reason>`
    Verify(verify::VerifyArgs),
    /// Manage endpoints (subscriptions)
    Endpoints(Group<EndpointsCommand>),
    /// List and replay deliveries that were given up on
    Failures(Group<FailuresCommand>),
    /// Search every attempt of the last 7 days; the last hour's and day's overview
    Deliveries(Group<DeliveriesCommand>),
    /// Links to a tenant's own portal
    Portal(Group<PortalCommand>),
    /// Inbound sources: other systems' webhooks, verified and mapped into events by a script
    Sources(Group<SourcesCommand>),
    /// Inspect events
    Events(Group<EventsCommand>),
}

/// An admin command group: its subcommands, and the token they all accept.
#[derive(clap::Args)]
struct Group<C: Subcommand> {
    #[command(flatten)]
    token: Token,
    #[command(subcommand)]
    command: C,
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(
                &format!("cannot start the async runtime: {e}"),
                ExitCode::FAILURE,
            )
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let Cli {
        conn,
        json,
        command,
    } = cli;
    let result = match command {
        Command::Dev(args) => dev::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Console(args) => console::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Send(args) => send::run(args, &conn, json)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Listen(args) => listen::run(args, &conn, json).await,
        Command::Verify(args) => verify::run(args, json),
        Command::Endpoints(g) => endpoints::run(g.command, &g.token.over(&conn), json).await,
        Command::Failures(g) => failures::run(g.command, &g.token.over(&conn), json).await,
        Command::Deliveries(g) => deliveries::run(g.command, &g.token.over(&conn), json).await,
        Command::Portal(g) => portal::run(g.command, &g.token.over(&conn), json).await,
        Command::Sources(g) => sources::run(g.command, &g.token.over(&conn), json).await,
        Command::Events(g) => failures::run_events(g.command, &g.token.over(&conn), json).await,
    };
    result.unwrap_or_else(|e: CliError| fail(&e.to_string(), e.exit_code()))
}

/// Help and version go to stdout as clap prints them; a real usage error is folded into
/// one line (clap's first paragraph) with clap's exit code, 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // Nothing else to do if stdout is closed.
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Clap renders the whole help here; its usage line is the one-line version.
        let usage = rendered
            .lines()
            .find_map(|line| line.trim().strip_prefix("Usage: "))
            .unwrap_or("authhooks <COMMAND>");
        return fail(
            &format!("a command is missing: {usage} (see --help)"),
            ExitCode::from(2),
        );
    }
    let first_paragraph = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let message = first_paragraph
        .strip_prefix("error: ")
        .unwrap_or(&first_paragraph);
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    fail(&format!("{message} (see --help)"), ExitCode::from(code))
}

/// Prints `error: <message>` as exactly one line, whatever the message holds.
fn fail(message: &str, code: ExitCode) -> ExitCode {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // Nowhere left to report a failure to write to stderr.
    let _ = writeln!(std::io::stderr().lock(), "error: {one_line}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_argument_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn endpoint_url_and_server_url_are_told_apart() {
        let cli = Cli::try_parse_from([
            "authhooks",
            "--url",
            "http://127.0.0.1:9",
            "endpoints",
            "add",
            "--url",
            "https://cms.example.com/hook",
            "--events",
            "user.*,session.revoked",
            "--json",
        ])
        .unwrap();
        assert_eq!(cli.conn.url, "http://127.0.0.1:9");
        assert!(cli.json);
        let Command::Endpoints(Group {
            command: EndpointsCommand::Add(add),
            ..
        }) = cli.command
        else {
            panic!("not parsed as `endpoints add`");
        };
        assert_eq!(add.url, "https://cms.example.com/hook");
        assert_eq!(add.events, ["user.*", "session.revoked"]);
    }
}
