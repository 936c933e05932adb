//! The plugin's options, their defaults, and the default mapping between an event's
//! `data.user` and a doc of the mirror collection.
import type { Logger } from "@authhooks/sync";

/** A user as events carry it in `data.user` (Better Auth's shape). */
export type AuthUser = Record<string, unknown>;
/** The data of a doc as Payload reads and writes it. */
export type DocData = Record<string, unknown>;

export interface AuthhooksPluginOptions {
  /** Slug of the mirror collection; added when the config has none by that slug. */
  collection: string;
  /** The endpoint's `whsec_…` secrets (comma-separated, or a list; newest first). */
  secrets: string | readonly string[];
  /** Where the collection's own edits go back to authhooks; absent → one-way sync. */
  ingest?: { url: string; secret: string; timeoutMs?: number };
  /** Stamped on emitted events; authhooks never sends them back to an endpoint of that origin. */
  origin?: string;
  /** Path of the receiver under Payload's API route. Default "/authhooks" → POST /api/authhooks. */
  path?: string;
  /** Maps `data.user` of an event onto the doc's data. */
  toDoc?: (user: AuthUser) => DocData;
  /** Maps a doc back to `data.user`; `id` is the doc's `authId`. */
  fromDoc?: (doc: DocData) => AuthUser;
  flush?: { intervalMs?: number; minBackoffMs?: number; maxBackoffMs?: number };
  logger?: Logger;
}

export const RECEIPTS = "authhooks-receipts";
export const OUTBOX = "authhooks-outbox";
/** Context marker on every write the receiver makes: the emit hooks skip such writes. */
export const MARKER = "authhooks";

/**
 * The default mapping: the catalogue's `data.user` (snake_case, docs/architecture.md §3.8)
 * onto the doc's fields (Payload's camelCase), and back.
 */
const USER_FIELDS = [
  ["email", "email"],
  ["name", "name"],
  ["email_verified", "emailVerified"],
  ["image", "image"],
  ["banned", "banned"],
] as const;

/** Only what the event carries: a partial `data.user` must not blank the other fields. */
export function defaultToDoc(user: AuthUser): DocData {
  const doc: DocData = {};
  for (const [wire, field] of USER_FIELDS) if (user[wire] !== undefined) doc[field] = user[wire];
  return doc;
}

export function defaultFromDoc(doc: DocData): AuthUser {
  const user: AuthUser = { id: doc["authId"] };
  for (const [wire, field] of USER_FIELDS) user[wire] = doc[field] ?? null;
  return user;
}

/** Two `data.user` values say the same: compared key by key, order-insensitive. */
export function sameUser(a: AuthUser, b: AuthUser): boolean {
  return stable(a) === stable(b);
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
