//! The initial sync: every existing user's current state, written to the outbox a page at a
//! time and paced, so a large user table neither floods authhooks nor the database.
import { newEvent, type IdentityEvent } from "@authhooks/sync";
import { changedAt, userView } from "./catalogue.js";
import type { Adapter } from "./tables.js";

export interface ReconcileOptions {
  /** Users read per page. Default 100. */
  pageSize?: number;
  /** At most this many users a second. Default 200. */
  perSecond?: number;
}

export interface ReconcileReport {
  users: number;
}

export async function reconcileUsers(
  adapter: Adapter,
  options: ReconcileOptions = {},
  write: (event: IdentityEvent) => Promise<void>,
): Promise<ReconcileReport> {
  const pageSize = Math.max(1, options.pageSize ?? 100);
  const perSecond = Math.max(1, options.perSecond ?? 200);
  let users = 0;
  for (let offset = 0; ; offset += pageSize) {
    const started = Date.now();
    const page = await adapter.findMany<Record<string, unknown>>({
      model: "user",
      limit: pageSize,
      offset,
      sortBy: { field: "id", direction: "asc" },
    });
    for (const row of page) {
      // `user.updated` with the time of the user's last change: a receiver that holds a
      // newer change keeps it, one that holds nothing creates the user.
      await write(newEvent({ type: "user.updated", subject: String(row["id"]), at: changedAt(row), data: { user: userView(row) } }));
    }
    users += page.length;
    if (page.length < pageSize) return { users };
    const due = (page.length / perSecond) * 1000 - (Date.now() - started);
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
}
