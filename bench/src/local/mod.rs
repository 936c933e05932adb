//! `authhooks-bench local`: end-to-end load on local mode (in-process, or a running
//! `authhooks dev`) to a loopback sink: saturation throughput, then ingest→receipt latency
//! at fixed offered rates (open loop: requests leave on schedule whatever the answers) —
//! for each endpoint ordering asked for, in rounds, so that ordered and unordered delivery
//! are compared within one run on whatever load the machine has at the time.

pub(crate) mod load;

use anyhow::Context;
use authhooks::domain::priority::PriorityTypes;
use authhooks::domain::signature::Secret;
use authhooks::local::{LocalConfig, LocalMode};
use serde_json::json;

use crate::client::{Subjects, Target};
use crate::machine::load_average;
use crate::sink::{FirstAttempt, Sink};
use crate::stats::Table;

#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// A running `authhooks dev` (with --admin-token and --ingest-secret); else in-process.
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long, env = "AUTHHOOKS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    #[arg(long, env = "AUTHHOOKS_INGEST_SECRET", hide_env_values = true)]
    pub ingest_secret: Option<String>,
    /// Worker consumers of the in-process local mode (on each of its two queues).
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Endpoints every event goes to.
    #[arg(long, default_value_t = 1)]
    pub endpoints: u32,
    /// The endpoints' orderings to measure, each in turn on a fresh system.
    #[arg(long, value_delimiter = ',', default_value = "none")]
    pub ordering: Vec<Mode>,
    /// Distinct subjects the events are spread over (modes `none` and `subject`).
    #[arg(long, default_value_t = 1000)]
    pub subjects: usize,
    /// Times the whole list of orderings is run, interleaved (ratios per round).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Events for the saturation run (0 skips it).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Events for the `hot-subject` saturation run (default: --events).
    #[arg(long)]
    pub hot_events: Option<usize>,
    /// Events per ingest request in the saturation run.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Concurrent ingest requests in the saturation run.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Offered rates (events/s) for the latency runs, one event per request (0: none).
    #[arg(long, value_delimiter = ',', default_value = "200,500,1000")]
    pub rates: Vec<u32>,
    /// Seconds each latency run offers load.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Milliseconds the sink takes to answer each webhook (a receiver's own work).
    #[arg(long, default_value_t = 0)]
    pub sink_delay_ms: u64,
}

/// What the endpoints are and what the events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `"ordering": "none"` (the standard queue), events over --subjects users.
    None,
    /// `"ordering": "subject"` (the ordered queue), events over --subjects users.
    Subject,
    /// `"ordering": "subject"`, every event about one user: one line, one at a time.
    HotSubject,
}

impl Mode {
    /// As given on the command line.
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Subject => "subject",
            Self::HotSubject => "hot-subject",
        }
    }

    fn ordering(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Subject | Self::HotSubject => "subject",
        }
    }

    fn label(self, subjects: usize) -> String {
        match self {
            Self::None => format!("ordering none, {subjects} subjects"),
            Self::Subject => format!("ordering subject, {subjects} subjects"),
            Self::HotSubject => "ordering subject, 1 subject".to_owned(),
        }
    }

    fn subjects(self, spread: usize) -> Subjects {
        match self {
            Self::None | Self::Subject => Subjects::Spread(spread),
            Self::HotSubject => Subjects::One,
        }
    }
}

/// One mode's run in one round.
pub struct Run {
    pub mode: Mode,
    /// Event ids and message ids of this run start with it, so no run sees another's.
    pub tag: String,
    pub subjects: Subjects,
    pub label: String,
}

pub async fn run(args: LocalArgs) -> anyhow::Result<()> {
    let delay = std::time::Duration::from_millis(args.sink_delay_ms);
    let sink = Sink::answering_after(FirstAttempt::Ok, delay).await?;
    let mut table = Table::new(&[
        "run",
        "offered",
        "sent",
        "delivered",
        "result",
        "load",
        "bar",
    ]);
    let mut saturations: Vec<(usize, Mode, f64)> = Vec::new();
    println!(
        "load average at start: {}; the sink answers after {} ms",
        load_average(),
        args.sink_delay_ms
    );
    for round in 1..=args.rounds.max(1) {
        for &mode in &args.ordering {
            let mut label = mode.label(args.subjects);
            if args.rounds > 1 {
                label = format!("round {round}: {label}");
            }
            let run = Run {
                mode,
                tag: format!("{}{round}", mode.name()),
                subjects: mode.subjects(args.subjects),
                label,
            };
            // A fresh in-process system per run: no run inherits another's stored state.
            let (target, running) = connect(&args).await?;
            let extra = json!({"ordering": mode.ordering()});
            let mut endpoints = Vec::new();
            for n in 0..args.endpoints {
                endpoints.push(
                    target
                        .add_endpoint(&sink.url(n), Some(extra.clone()))
                        .await?,
                );
            }
            let events = match mode {
                Mode::HotSubject => args.hot_events.unwrap_or(args.events),
                Mode::None | Mode::Subject => args.events,
            };
            if events > 0 {
                let rate = load::saturate(&args, &run, events, &target, &sink, &mut table).await?;
                saturations.push((round, mode, rate));
            }
            for rate in args.rates.iter().filter(|rate| **rate > 0) {
                load::latency(&args, &run, &target, &sink, *rate, &mut table).await?;
            }
            match running {
                Some(running) => {
                    running.shutdown().await;
                }
                None => {
                    for id in endpoints {
                        target.remove_endpoint(&id).await?;
                    }
                }
            }
        }
    }
    println!("{table}");
    if let Some(ratios) = ratios(&saturations) {
        println!("{ratios}");
    }
    println!("load average at end: {}", load_average());
    Ok(())
}

/// Each ordered saturation as a fraction of the unordered one of its round, and the
/// median of those fractions per ordering when there were several rounds.
fn ratios(saturations: &[(usize, Mode, f64)]) -> Option<Table> {
    let mut table = Table::new(&["round", "ordering", "deliveries/s", "÷ none, same round"]);
    let mut by_mode: Vec<(Mode, Vec<f64>)> = Vec::new();
    for (round, mode, rate) in saturations.iter().filter(|(_, m, _)| *m != Mode::None) {
        let Some((_, _, none)) = saturations
            .iter()
            .find(|(r, m, _)| r == round && *m == Mode::None)
        else {
            continue;
        };
        table.row(vec![
            round.to_string(),
            mode.name().to_owned(),
            format!("{rate:.0} (none: {none:.0})"),
            format!("{:.2}", rate / none),
        ]);
        match by_mode.iter_mut().find(|(m, _)| m == mode) {
            Some((_, fractions)) => fractions.push(rate / none),
            None => by_mode.push((*mode, vec![rate / none])),
        }
    }
    for (mode, fractions) in by_mode.iter_mut().filter(|(_, f)| f.len() > 1) {
        fractions.sort_by(f64::total_cmp);
        let median = fractions[fractions.len() / 2];
        let (low, high) = (fractions[0], fractions[fractions.len() - 1]);
        table.row(vec![
            format!("median of {}", fractions.len()),
            mode.name().to_owned(),
            format!("range {low:.2}–{high:.2}"),
            format!("{median:.2}"),
        ]);
    }
    (!by_mode.is_empty()).then_some(table)
}

async fn connect(args: &LocalArgs) -> anyhow::Result<(Target, Option<LocalMode>)> {
    if let Some(url) = &args.url {
        let token = args
            .admin_token
            .clone()
            .context("--admin-token is needed with --url")?;
        let secret = args
            .ingest_secret
            .as_deref()
            .context("--ingest-secret is needed")?;
        let target = Target::new(url.clone(), token, Secret::parse(secret)?)?;
        return Ok((target, None));
    }
    let (target, running) = start_in_process(args.workers, PriorityTypes::default()).await?;
    Ok((target, Some(running)))
}

/// `authhooks dev` in this process on a free port, and a client of it.
pub(crate) async fn start_in_process(
    workers: usize,
    priority_types: PriorityTypes,
) -> anyhow::Result<(Target, LocalMode)> {
    let secret = Secret::generate([0x5a; 32]);
    let token = "bench-admin-token".to_owned();
    let running = LocalMode::start(LocalConfig {
        addr: "127.0.0.1:0".parse()?,
        admin_token: token.clone(),
        ingest_secret: secret.clone(),
        aws_endpoint: None,
        priority_types,
        workers,
        limits: authhooks::local::ServerLimits::default(),
    })
    .await?;
    let target = Target::new(format!("http://{}", running.addr), token, secret)?;
    Ok((target, running))
}
