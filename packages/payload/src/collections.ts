//! The collections the plugin adds: the receipts that make a delivery apply once, the outbox
//! that carries local edits back to authhooks, and the mirror collection's own fields.
import type { CollectionConfig, Field } from "payload";
import { OUTBOX, RECEIPTS } from "./options.js";

/** Nobody reaches these over the REST API; the plugin uses the Local API, which overrides access. */
const closed = { read: () => false, create: () => false, update: () => false, delete: () => false };

export const receiptsCollection: CollectionConfig = {
  slug: RECEIPTS,
  admin: { hidden: true },
  access: closed,
  fields: [
    // Unique: two concurrent deliveries of one event cannot both commit; the loser answers
    // 500, authhooks retries it, and the retry finds the receipt.
    { name: "eventId", type: "text", required: true, unique: true, index: true },
    { name: "type", type: "text", required: true },
    { name: "subject", type: "text" },
    {
      name: "outcome",
      type: "select",
      required: true,
      options: ["applied", "stale", "ignored"],
    },
    { name: "at", type: "date", required: true },
  ],
};

export const outboxCollection: CollectionConfig = {
  slug: OUTBOX,
  admin: { hidden: true },
  access: closed,
  fields: [
    { name: "eventId", type: "text", required: true, unique: true, index: true },
    // The event exactly as it will be sent: its id must not change between re-sends.
    { name: "event", type: "textarea", required: true },
    // Order of writing; a subject's events reach ingest in this order.
    { name: "position", type: "number", required: true, index: true },
    {
      name: "status",
      type: "select",
      required: true,
      defaultValue: "pending",
      index: true,
      options: ["pending", "buried"],
    },
    { name: "error", type: "textarea" },
  ],
};

/**
 * Where the doc's state came from (@authhooks/sync `SubjectState`). Hidden from the admin
 * UI only: `hidden: true` would strip them from the doc the afterChange hook sees.
 */
export const syncFields: Field[] = [
  { name: "authhooksChangedAt", type: "text", admin: { hidden: true } },
  { name: "authhooksOrigin", type: "text", admin: { hidden: true } },
  { name: "authhooksSequence", type: "number", admin: { hidden: true } },
];

export const authIdField: Field = {
  name: "authId",
  type: "text",
  unique: true,
  index: true,
  admin: { readOnly: true, description: "The user's id in the identity provider." },
};

/** The mirror collection when the config has none: a plain collection, not `auth`, so no password. */
export function mirrorCollection(slug: string): CollectionConfig {
  return {
    slug,
    // Soft deletes: a deleted user's doc keeps its sync state, so a late stale update is dropped.
    trash: true,
    admin: { useAsTitle: "email" },
    fields: [
      authIdField,
      { name: "email", type: "text" },
      { name: "name", type: "text" },
      { name: "emailVerified", type: "checkbox", defaultValue: false },
      { name: "image", type: "text" },
      { name: "banned", type: "checkbox", defaultValue: false },
      ...syncFields,
    ],
  };
}

/** The fields the plugin needs on a collection the app defined, added when missing. */
export function withSyncFields(collection: CollectionConfig): CollectionConfig {
  const has = new Set(collection.fields.flatMap((f) => ("name" in f ? [f.name] : [])));
  const extra = [authIdField, ...syncFields].filter((f) => "name" in f && !has.has(f.name));
  return { ...collection, fields: [...collection.fields, ...extra] };
}
