//! @authhooks/sync: what both ends of an authhooks two-way sync share.
export { newEvent, type Delivery, type IdentityEvent, type NewEvent } from "./event.js";
export { IngestClient, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, describe, type IngestOptions, type IngestOutcome } from "./ingest.js";
export {
  OutboxFlusher,
  consoleLogger,
  type FlushReport,
  type FlusherOptions,
  type Logger,
  type OutboxRow,
  type OutboxStore,
} from "./outbox.js";
export { DeliveryRejected, DeliveryVerifier, type HeaderSource } from "./verify.js";
export { freshness, stateOf, type Freshness, type SubjectState } from "./freshness.js";
