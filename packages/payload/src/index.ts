//! @authhooks/payload: keep a Payload collection in sync with an identity provider through
//! authhooks — verified deliveries applied once and never stale, local edits sent back.
export { authhooks } from "./plugin.js";
export { authhooksOutbox, PayloadOutboxStore } from "./outbox.js";
export { stateOfDoc } from "./receiver.js";
export {
  defaultFromDoc,
  defaultToDoc,
  MARKER,
  OUTBOX,
  RECEIPTS,
  type AuthUser,
  type AuthhooksPluginOptions,
  type DocData,
} from "./options.js";
