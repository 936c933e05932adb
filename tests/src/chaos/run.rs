//! One chaos run: receivers and endpoints, workers and the recorder, a killer aborting
//! workers mid-batch, ingest through the real router with backpressure and re-posts, then
//! the wait until both queues are empty, and the tally.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use authhooks::adapters::http::{HttpSender, SenderConfig};
use authhooks::app::deliver::WorkerSettings;
use authhooks::domain::endpoint::UrlPolicy;
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::ids::EndpointId;
use authhooks::domain::signature::Secret;
use authhooks::local::gates::Gates;
use authhooks::local::pump::{run_recorder, WorkerParts};
use authhooks::ports::{Entropy, Sender, SystemEntropy};
use authhooks::system::Settings;

use super::causes::{Causes, ReadingSender, RefusingDeadLetters, RefusingQueue};
use super::faults::Behaviour;
use super::ingest::produce;
use super::pool::{kill_loop, Pool};
use super::receiver::FaultyReceiver;
use super::tally::{tally, ChaosReport, Planned};
use super::world::{sdk_config, ChaosWorld};
use super::{dead_spec, flaky_spec, Backend, ChaosConfig, ChaosError};

pub async fn run(config: &ChaosConfig) -> Result<ChaosReport, ChaosError> {
    let started = Instant::now();
    let sender: Arc<dyn Sender> = Arc::new(
        HttpSender::new(SenderConfig {
            allow_private: true,
            connect_timeout: Duration::from_secs(1),
            ..SenderConfig::default()
        })
        .map_err(|e| ChaosError::Setup(e.to_string()))?,
    );
    let world = Arc::new(match &config.backend {
        Backend::Memory => ChaosWorld::memory(
            config.queue,
            config.duplicate_rate,
            config.seed,
            sender.clone(),
        ),
        Backend::Aws { url, prefix } => {
            let sdk = sdk_config(url).await;
            ChaosWorld::aws(
                &sdk,
                prefix,
                config.queue,
                config.duplicate_rate,
                config.seed,
                sender.clone(),
            )
            .await?
        }
    });
    let planned = Arc::new(add_endpoints(config, &world).await?);

    let plans = planned
        .iter()
        .map(|p| (p.receiver.url(), (p.id.clone(), p.behaviour)))
        .collect();
    // The workers' own handles on the queues, refusing a share of their calls; ingest keeps
    // the plain ones (its failures are another path, tested elsewhere).
    let queue = Arc::new(RefusingQueue::new(
        world.queue.clone(),
        config.enqueue_error_rate,
        config.seed,
        world.causes.clone(),
    ));
    let dead_letters = Arc::new(RefusingDeadLetters::new(
        world.dead_letters.clone(),
        config.dead_letter_error_rate,
        config.seed,
        world.causes.clone(),
    ));
    let reading = Arc::new(ReadingSender::new(sender, plans, world.causes.clone()));
    let system = world
        .builder
        .clone()
        .with(|ports| {
            ports.queue = queue.clone();
            ports.dead_letters = dead_letters.clone();
            ports.sender = reading;
        })
        .settings(Settings {
            worker: WorkerSettings {
                claim_margin: config.claim_margin,
                ..WorkerSettings::default()
            },
            ..Settings::default()
        })
        .build();
    // A pool of workers on each deliveries queue, each pool with its killer, as Lambda
    // runs one event source per queue.
    let (stop, stopped) = watch::channel(false);
    let mut pools = Vec::new();
    let mut killers = Vec::new();
    let gates = Gates::new(system.worker.settings.max_in_flight);
    for (n, inbox) in [&world.deliveries_inbox, &world.ordered_inbox]
        .into_iter()
        .enumerate()
    {
        let parts = WorkerParts {
            inbox: inbox.clone(),
            worker: (*system.worker).clone(),
            gates: gates.clone(),
        };
        let pool = Arc::new(Pool::start(
            &parts,
            config.workers.max(1),
            &stopped,
            world.causes.clone(),
            config.queue.visibility,
        ));
        if let Some(every) = config.kill_every {
            killers.push(tokio::spawn(kill_loop(
                pool.clone(),
                parts,
                stopped.clone(),
                every,
                config.seed.rotate_left(n as u32 * 17),
            )));
        }
        pools.push(pool);
    }
    let recorders: Vec<_> = world
        .dlq_inboxes
        .iter()
        .map(|inbox| {
            tokio::spawn(run_recorder(
                inbox.clone(),
                system.recorder.clone(),
                stopped.clone(),
            ))
        })
        .collect();

    let progress = config.progress.then(|| {
        let world = world.clone();
        let planned = planned.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let backlog = world.backlog().await.unwrap_or(usize::MAX);
                let requests: Vec<u64> = planned.iter().map(|p| p.receiver.requests()).collect();
                eprintln!(
                    "[{:>6.1} s] queued {backlog}, requests per endpoint {requests:?}",
                    started.elapsed().as_secs_f64()
                );
            }
        })
    });
    let ingested = produce(config, &world, started).await;
    let drained = match &ingested {
        Ok(_) => wait_drained(config, &world, started).await?,
        Err(_) => false,
    };
    let _ = stop.send(true);
    for killer in killers {
        killer.abort();
    }
    for pool in &pools {
        pool.abort_all();
    }
    if let Some(progress) = progress {
        progress.abort();
    }
    for recorder in recorders {
        recorder.abort();
    }
    let ingested = ingested?;

    let failures = super::tally::all_failures(world.failures.as_ref()).await?;
    let leftover = world.backlog().await.unwrap_or(usize::MAX);
    Ok(tally(
        config,
        &planned,
        &ingested,
        &failures,
        Stats {
            kills: pools.iter().map(|p| p.kills.load(Ordering::Relaxed)).sum(),
            kills_mid_batch: pools
                .iter()
                .map(|p| p.kills_mid_batch.load(Ordering::Relaxed))
                .sum(),
            duplicated_jobs: world.queue.duplicated() + world.ordered_queue.duplicated(),
            enqueue_errors: queue.refused(),
            dead_letter_errors: dead_letters.refused(),
            causes: world.causes.snapshot(),
            drained,
            leftover,
            elapsed: started.elapsed(),
        },
    ))
}

/// Figures from the run itself, for the report.
#[derive(Debug, Clone)]
pub struct Stats {
    pub kills: u64,
    pub kills_mid_batch: u64,
    pub duplicated_jobs: u64,
    /// Workers' re-enqueue calls refused on purpose.
    pub enqueue_errors: u64,
    /// Workers' dead-letter calls refused on purpose.
    pub dead_letter_errors: u64,
    /// What may have sent a delivery twice, per endpoint (re-posts added by the tally).
    pub causes: HashMap<EndpointId, Causes>,
    pub drained: bool,
    pub leftover: usize,
    pub elapsed: Duration,
}

async fn add_endpoints(
    config: &ChaosConfig,
    world: &ChaosWorld,
) -> Result<Vec<Planned>, ChaosError> {
    let policy = UrlPolicy {
        allow_http: true,
        allow_private: true,
    };
    let entropy = SystemEntropy;
    // Timeout faults hold their answer well past the endpoint's timeout.
    let stall = Duration::from_millis(config.timeout_ms + 300);
    let mut planned = Vec::new();
    for j in 0..=config.endpoints {
        let dead = j == config.endpoints;
        let secret = Secret::generate(entropy.bytes32());
        let behaviour = if dead {
            Behaviour::Dead
        } else {
            Behaviour::Flaky {
                rate: config.fault_rate,
                seed: config.seed,
                salt: j as u64,
            }
        };
        let receiver = FaultyReceiver::start(behaviour, secret.clone(), stall)
            .await
            .map_err(|e| ChaosError::Setup(format!("receiver: {e}")))?;
        let spec = if dead {
            dead_spec(&receiver.url(), &secret.expose(), config.timeout_ms)
        } else {
            flaky_spec(j, &receiver.url(), &secret.expose(), config.timeout_ms)
        };
        let (endpoint, _) = parse_new(
            &spec,
            &policy,
            world.clock.now(),
            &mut || entropy.u128(),
            entropy.bytes32(),
        )
        .map_err(|errors| ChaosError::Setup(format!("endpoint {j}: {errors:?}")))?;
        world.endpoints.put(&endpoint).await?;
        let patterns = if dead {
            vec![super::DEAD_TYPE]
        } else {
            super::subscription(j)
        };
        planned.push(Planned {
            name: if dead {
                "dead".into()
            } else {
                format!("flaky-{j}")
            },
            id: endpoint.id,
            patterns,
            dead,
            ordered: dead || super::ordered(j),
            behaviour,
            receiver,
        });
    }
    Ok(planned)
}

/// Waits until both queues hold nothing (visible, in flight or delayed) several checks in
/// a row; false if the deadline came first.
async fn wait_drained(
    config: &ChaosConfig,
    world: &ChaosWorld,
    started: Instant,
) -> Result<bool, ChaosError> {
    let (pause, needed) = match config.backend {
        Backend::Memory => (Duration::from_millis(50), 3),
        // SQS's counts are approximate: ask more slowly and more often.
        Backend::Aws { .. } => (Duration::from_millis(700), 4),
    };
    let mut empty_in_a_row = 0;
    while started.elapsed() < config.deadline {
        if world.backlog().await? == 0 {
            empty_in_a_row += 1;
            if empty_in_a_row >= needed {
                return Ok(true);
            }
        } else {
            empty_in_a_row = 0;
        }
        tokio::time::sleep(pause).await;
    }
    Ok(false)
}
