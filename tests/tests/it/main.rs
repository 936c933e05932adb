//! The workspace's integration tests, one binary (one link, one moto server per run):
//! a module per subject. The log-capture tests live in their own crate (`tests/logs`),
//! because they install a process-global tracing subscriber at `trace`.

mod admin_attempts;
mod admin_contract;
mod admin_deliveries;
mod admin_health;
mod admin_recover;
mod aws_adapters;
mod aws_pipeline;
mod bad_cursor;
mod bad_input;
mod batched_delivery;
mod chaos;
mod concurrency;
mod console;
mod contract;
mod delivery_headers;
mod dev_server;
mod exact_numbers;
mod fan_out;
mod handlers;
mod http_sender;
mod inbound_sources;
mod ingest_contract;
mod ingest_http;
mod lambda_init;
mod lambda_secrets;
mod operational_events;
mod pipeline;
mod pipeline_claims;
mod pipeline_endpoint_state;
mod pipeline_ordering;
mod pipeline_signing;
mod pipeline_timing;
mod portal;
mod priority_lane;
mod record_expiry;
mod recovery;
mod resilience;
mod signing_schemes;
mod slow_receivers;
mod trace_context;
mod transformations;
mod worker_queue_failures;
