//! The outbox on a Payload collection: rows written by the emit hooks inside the edit's own
//! transaction, and the `OutboxFlusher` that sends them to ingest, one per Payload instance.
import { OutboxFlusher, type IdentityEvent, type Logger, type OutboxRow, type OutboxStore } from "@authhooks/sync";
import type { Payload, PayloadRequest } from "payload";
import { createDoc, deleteWhere, findDocs, updateDoc, type Scope } from "./local.js";
import { OUTBOX } from "./options.js";

const flushers = new WeakMap<Payload, OutboxFlusher>();

/** The flusher of a Payload instance (flush() to drain now, stop() to shut down); none when one-way. */
export function authhooksOutbox(payload: Payload): OutboxFlusher | undefined {
  return flushers.get(payload);
}

export interface FlusherSettings {
  ingest: { url: string; secret: string; timeoutMs?: number };
  flush?: { intervalMs?: number; minBackoffMs?: number; maxBackoffMs?: number } | undefined;
  logger: Logger;
}

export function startFlusher(payload: Payload, settings: FlusherSettings): OutboxFlusher {
  const previous = flushers.get(payload);
  if (previous) return previous;
  const flusher = new OutboxFlusher({
    ingest: settings.ingest,
    store: new PayloadOutboxStore(payload),
    logger: settings.logger,
    ...settings.flush,
  });
  flushers.set(payload, flusher);
  flusher.start();
  return flusher;
}

/** The store's reads and writes are single statements, outside any app request's transaction. */
export class PayloadOutboxStore implements OutboxStore {
  readonly #scope: Scope;

  constructor(readonly payload: Payload) {
    this.#scope = { payload, noTransaction: true };
  }

  async pending(limit: number): Promise<OutboxRow[]> {
    const docs = await findDocs(this.#scope, OUTBOX, { status: { equals: "pending" } }, { limit, sort: "position" });
    return docs.map((doc) => ({ key: String(doc.id), event: JSON.parse(String(doc["event"])) as IdentityEvent }));
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length > 0) await deleteWhere(this.#scope, OUTBOX, { id: { in: keys } });
  }

  async bury(key: string, reason: string): Promise<void> {
    await updateDoc(this.#scope, OUTBOX, key, { status: "buried", error: reason.slice(0, 2000) });
  }
}

let lastPosition = 0;

/** Strictly increasing within the process: equal milliseconds still keep the order written. */
function nextPosition(): number {
  lastPosition = Math.max(Date.now() * 1000, lastPosition + 1);
  return lastPosition;
}

/**
 * Writes the event's row with the edit's `req`, so it is in the edit's transaction: a
 * rolled-back edit leaves no event, a committed one always has one.
 */
export async function enqueue(req: PayloadRequest, event: IdentityEvent): Promise<void> {
  await createDoc({ payload: req.payload, req }, OUTBOX, {
    eventId: event.id,
    event: JSON.stringify(event),
    position: nextPosition(),
    status: "pending",
  });
  kickAfterCommit(req);
}

/**
 * The row is not visible to the flusher until the edit's transaction commits, after the hook
 * returns. Payload's commit/kill drop `req.transactionID`: kick once it is gone. The flusher's
 * periodic poll catches anything this misses (a request that never ends its transaction).
 */
function kickAfterCommit(req: PayloadRequest): void {
  const flusher = flushers.get(req.payload);
  if (!flusher) return;
  const deadline = Date.now() + 30_000;
  const check = () => {
    if (!req.transactionID || Date.now() > deadline) {
      flusher.kick();
      return;
    }
    setTimeout(check, 5).unref();
  };
  setTimeout(check, 0).unref();
}
