//! The plugin's two tables in Better Auth's own database, declared through the plugin
//! schema so Better Auth's migrations create them: the outbox of events not yet accepted
//! by authhooks, and where each subject's current state came from (the stale-update rule).
import type { IdentityEvent, OutboxRow, OutboxStore, SubjectState } from "@authhooks/sync";

export const OUTBOX = "authhooksOutbox";
export const SUBJECT = "authhooksSubject";

export const schema = {
  [OUTBOX]: {
    fields: {
      eventId: { type: "string", required: true, unique: true },
      event: { type: "string", required: true },
      /** Write order: one subject's events reach authhooks in the order they happened. */
      position: { type: "number", required: true, bigint: true },
      status: { type: "string", required: true },
      error: { type: "string", required: false },
    },
  },
  [SUBJECT]: {
    fields: {
      subject: { type: "string", required: true, unique: true },
      changedAt: { type: "string", required: true },
      origin: { type: "string", required: true },
      sequence: { type: "number", required: false, bigint: true },
    },
  },
} as const;

/** The slice of Better Auth's adapter the tables use (any of its database adapters). */
export interface Adapter {
  create<T>(data: { model: string; data: Record<string, unknown>; forceAllowId?: boolean }): Promise<T>;
  findOne<T>(data: { model: string; where: Where[] }): Promise<T | null>;
  findMany<T>(data: { model: string; where?: Where[]; limit?: number; offset?: number; sortBy?: { field: string; direction: "asc" | "desc" } }): Promise<T[]>;
  update<T>(data: { model: string; where: Where[]; update: Record<string, unknown> }): Promise<T | null>;
  deleteMany(data: { model: string; where: Where[] }): Promise<number>;
}
interface Where {
  field: string;
  value: string | number | boolean | string[] | number[] | Date | null;
  operator?: "eq" | "in";
}

let lastPosition = 0;
/** Strictly increasing in this process, and close to time order across processes. */
function nextPosition(): number {
  lastPosition = Math.max(lastPosition + 1, Date.now() * 1000);
  return lastPosition;
}

interface OutboxRecord {
  id: string;
  eventId: string;
  event: string;
}

export async function writeOutbox(adapter: Adapter, event: IdentityEvent): Promise<void> {
  await adapter.create({
    model: OUTBOX,
    data: { eventId: event.id, event: JSON.stringify(event), position: nextPosition(), status: "pending" },
  });
}

export function outboxStore(adapter: () => Adapter): OutboxStore {
  return {
    async pending(limit: number): Promise<OutboxRow[]> {
      const rows = await adapter().findMany<OutboxRecord>({
        model: OUTBOX,
        where: [{ field: "status", value: "pending" }],
        limit,
        sortBy: { field: "position", direction: "asc" },
      });
      return rows.map((r) => ({ key: r.id, event: JSON.parse(r.event) as IdentityEvent }));
    },
    async remove(keys: string[]): Promise<void> {
      await adapter().deleteMany({ model: OUTBOX, where: [{ field: "id", value: keys, operator: "in" }] });
    },
    async bury(key: string, reason: string): Promise<void> {
      await adapter().update({ model: OUTBOX, where: [{ field: "id", value: key }], update: { status: "buried", error: reason.slice(0, 1000) } });
    },
  };
}

interface SubjectRecord {
  id: string;
  changedAt: string;
  origin: string;
  sequence: number | string | null;
}

export async function subjectState(adapter: Adapter, subject: string): Promise<SubjectState | null> {
  const row = await adapter.findOne<SubjectRecord>({ model: SUBJECT, where: [{ field: "subject", value: subject }] });
  if (!row) return null;
  return { changedAt: row.changedAt, origin: row.origin, sequence: row.sequence === null ? null : Number(row.sequence) };
}

export async function recordSubject(adapter: Adapter, subject: string, state: SubjectState): Promise<void> {
  const update = { changedAt: state.changedAt, origin: state.origin, sequence: state.sequence };
  const done = await adapter.update({ model: SUBJECT, where: [{ field: "subject", value: subject }], update });
  if (!done) await adapter.create({ model: SUBJECT, data: { subject, ...update } });
}
