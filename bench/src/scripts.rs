//! `authhooks-bench script`: what a source's script costs. The sandbox alone (one run of
//! the Payload mapping, compiled once: a fresh engine, the bytecode loaded, the handler
//! called, its answer as JSON), and a whole inbound request in process — signature check,
//! script, ingest — against the machine's own limit measured in the same run: the same
//! event posted to ingest as a producer would, with no script.

use std::sync::Arc;
use std::time::Instant;

use authhooks::adapters::memory::{MemoryQueue, QueueSettings};
use authhooks::domain::signature::sign_headers;
use authhooks::ports::{Clock, SystemClock, SystemEntropy};
use authhooks::system::{MemoryBackend, Settings};
use authhooks_sandbox::{Limits, Sandbox};
use authhooks_tests::sender::ScriptedSender;
use serde_json::{json, Value};

use crate::machine::{cpu_per_unit_ms, load_average, process_cpu};
use crate::stats::Table;

/// The mapping docs/integrations.md gives for Payload's `afterChange`.
const SCRIPT: &str = r#"
function handler(request) {
  const { collection, operation, doc, previousDoc } = request.body;
  if (collection !== "users" || operation !== "update") return null;
  const changed = ["name", "email", "image"].filter((k) => doc[k] !== (previousDoc || {})[k]);
  if (changed.length === 0) return null;
  return {
    type: "user.updated",
    subject: doc.betterAuthId,
    data: { user: { id: doc.betterAuthId, name: doc.name, email: doc.email }, changed },
  };
}
"#;

/// A signed inbound request: its headers and body.
type Signed = (Vec<(String, String)>, Vec<u8>);

#[derive(Debug, clap::Args)]
pub struct ScriptArgs {
    /// Runs of the sandbox alone, and inbound requests (and as many plain ingests).
    #[arg(long, default_value_t = 20_000)]
    runs: usize,
}

fn payload(n: usize) -> Value {
    json!({"collection": "users", "operation": "update",
        "doc": {"id": format!("64f{n}"), "betterAuthId": format!("u_{n}"), "name": format!("Ada {n}"),
                "email": "ada@example.com", "updatedAt": "2026-12-01T10:00:00.000Z"},
        "previousDoc": {"id": format!("64f{n}"), "name": "Ada", "email": "ada@example.com"}})
}

pub async fn run(args: ScriptArgs) -> anyhow::Result<()> {
    println!("{} runs; load before: {}", args.runs, load_average());
    let mut table = Table::new(&["what", "per unit", "CPU per unit", "vs plain ingest"]);

    let sandbox = Sandbox::new(Limits::default());
    let input = json!({"body": payload(1), "headers": {}}).to_string();
    sandbox.compile(SCRIPT)?;
    let (cpu, started) = (process_cpu(), Instant::now());
    for _ in 0..args.runs {
        sandbox.run(SCRIPT, &input, 0)?;
    }
    let wall = started.elapsed().as_secs_f64() * 1000.0 / args.runs as f64;
    let cpu = cpu_per_unit_ms(cpu, process_cpu(), args.runs as u64);
    table.row(vec![
        "sandbox run (compiled once)".into(),
        format!("{wall:.3} ms"),
        ms(cpu),
        "-".into(),
    ]);

    // The whole system in memory; nothing is delivered (no worker runs), so what is
    // measured is the request's own work: verify, script, validate, enqueue.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let queue = QueueSettings::default();
    let backend = MemoryBackend::with_queues(
        Arc::new(MemoryQueue::new(clock.clone(), queue)),
        Arc::new(MemoryQueue::new(clock.clone(), queue)),
        Arc::new(MemoryQueue::new(clock.clone(), queue)),
        Arc::new(MemoryQueue::new(clock.clone(), queue)),
    );
    let sender = Arc::new(ScriptedSender::new(clock.clone()));
    let system = backend
        .builder(clock.clone(), Arc::new(SystemEntropy), sender)
        .settings(Settings::permissive())
        .build();
    system
        .admin
        .create_endpoint(
            &json!({"url": "http://sink.test/hook", "event_types": ["user.*"], "ordering": "none"}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let saved = system
        .sources
        .create(
            &json!({"name": "payload", "origin": "payload", "script": SCRIPT,
            "verification": {"scheme": "standard-webhooks"}}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let secret =
        authhooks::domain::signature::Secret::parse(saved.secret.as_deref().unwrap_or_default())?;
    let id = saved.source.id.to_string();

    // Plain ingest of the event the script makes, as a producer would post it.
    let events: Vec<Vec<u8>> = (0..args.runs)
        .map(|n| {
            json!({"type": "user.updated", "subject": format!("u_{n}"), "origin": "payload",
                "data": {"user": {"id": format!("u_{n}"), "name": format!("Ada {n}"), "email": "ada@example.com"}, "changed": ["name"]}})
            .to_string()
            .into_bytes()
        })
        .collect();
    let (cpu, started) = (process_cpu(), Instant::now());
    for body in &events {
        system.ingest.ingest(body, None, None).await?;
    }
    let plain_wall = started.elapsed().as_secs_f64() * 1000.0 / args.runs as f64;
    let plain = cpu_per_unit_ms(cpu, process_cpu(), args.runs as u64);
    table.row(vec![
        "POST /v1/events (no script)".into(),
        format!("{plain_wall:.3} ms"),
        ms(plain),
        "1.00".into(),
    ]);

    let now = clock.now().timestamp();
    let requests: Vec<Signed> = (0..args.runs)
        .map(|n| {
            let body = payload(n + 1_000_000).to_string().into_bytes();
            let headers = sign_headers([&secret], &format!("msg_{n}"), now, &body)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            (headers, body)
        })
        .collect();
    let (cpu, started) = (process_cpu(), Instant::now());
    for (headers, body) in &requests {
        system.sources.receive(&id, headers, body).await?;
    }
    let inbound_wall = started.elapsed().as_secs_f64() * 1000.0 / args.runs as f64;
    let inbound = cpu_per_unit_ms(cpu, process_cpu(), args.runs as u64);
    let ratio = match (inbound, plain) {
        (Some(i), Some(p)) if p > 0.0 => format!("{:.2}", i / p),
        _ => "?".into(),
    };
    table.row(vec![
        "POST /v1/inbound/{id} (verify, script, ingest)".into(),
        format!("{inbound_wall:.3} ms"),
        ms(inbound),
        ratio,
    ]);
    println!("{table}");
    println!("load after: {}", load_average());
    Ok(())
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "?".into(), |v| format!("{v:.3} ms"))
}
