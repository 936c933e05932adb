//! An outbox store in an array, for the flusher's tests: the plugins' real stores (Better
//! Auth's and Payload's tables) are tested in their own packages.
import type { IdentityEvent, OutboxRow, OutboxStore } from "../src/index.js";

export class ArrayStore implements OutboxStore {
  rows: OutboxRow[] = [];
  buried: { row: OutboxRow; reason: string }[] = [];
  /** Makes the next `remove` fail, as a crash between send and delete would. */
  failNextRemove = false;

  add(...events: IdentityEvent[]): void {
    for (const event of events) this.rows.push({ key: event.id, event });
  }

  async pending(limit: number): Promise<OutboxRow[]> {
    return this.rows.slice(0, limit);
  }

  async remove(keys: string[]): Promise<void> {
    if (this.failNextRemove) {
      this.failNextRemove = false;
      throw new Error("database went away");
    }
    this.rows = this.rows.filter((r) => !keys.includes(r.key));
  }

  async bury(key: string, reason: string): Promise<void> {
    const row = this.rows.find((r) => r.key === key);
    if (row) this.buried.push({ row, reason });
    this.rows = this.rows.filter((r) => r.key !== key);
  }
}
