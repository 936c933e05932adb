//! The DynamoDB adapters: endpoints, the state table (idempotency records and per-endpoint
//! state), failure records, the delivery log and inbound sources, each a table of its own
//! (docs/architecture.md §3.6).
//!
//! Items are converted only with `serde_dynamo`; the adapters add nothing but keys and the
//! attributes their conditions and indexes need. Key schemas, which the SAM template must
//! match ([`tables::create_tables`] builds the same for tests and local mode):
//!
//! | table | key | attributes used by conditions and indexes |
//! |---|---|---|
//! | endpoints | `id` (S, hash) | the [`Endpoint`](crate::domain::endpoint::Endpoint) fields |
//! | state | `pk` (S, hash) | see below; TTL on `expires_at` |
//! | failures | `id` (S, hash) | `kind` (S), `sort_key` (S), `endpoint_id` (S) |
//! | delivery log | `pk` (S, hash), `sk` (S, range) | `entries` (B); TTL on `expires_at` |
//! | sources | `pk` (S, hash), `sk` (S, range) | `sk` `source` or `failure#<id>`, `kind` (S, sources only); TTL on `expires_at` |
//!
//! The failures table has two global secondary indexes, both projecting `ALL`:
//! - `by_time`: hash `kind` (always `"failure"`), range `sort_key`;
//! - `by_endpoint`: hash `endpoint_id`, range `sort_key`.
//!
//! The sources table has one, `by_kind`: hash `kind` (`"source"`), range `pk`, projecting
//! `ALL`; failed requests carry no `kind`, so it lists the sources alone.
//!
//! `sort_key` is the failure time inverted (a fixed-width decimal that falls as time rises)
//! then `#` and the record id, so an ascending read is newest first with ties broken by id,
//! the order of the in-memory adapter.
//!
//! State items: `pk` is `dlv#<delivery id>` for idempotency records
//! (`token` N, `status` S `in_progress`|`completed`, `lease_until` N in epoch
//! **milliseconds**, 0 once paused, `expires_at` N in epoch **seconds**, `detail` S: the
//! attempt history as a JSON string once completed, `progress` S: a paused delivery's
//! attempts as a JSON string while unfinished) and `ep#<endpoint id>` for endpoint state
//! (`version` N, `state` M).
//! Times written are rounded up (a record is never forgotten or a lease given up early);
//! conditions compare them with the exact time.

mod delivery_log;
mod endpoint_state;
mod endpoints;
pub(crate) mod error;
mod failure_item;
mod failures;
mod item;
mod log_item;
mod sources;
mod state;
mod state_batch;
pub mod tables;

pub use delivery_log::DynamoDeliveryLog;
pub use endpoints::DynamoEndpointStore;
pub use failures::DynamoFailureStore;
pub use sources::DynamoSourceStore;
pub use state::DynamoStateStore;
pub use tables::{create_tables, TableNames};
