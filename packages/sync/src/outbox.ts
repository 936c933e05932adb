//! The outbox flusher: events written to a table in the producer's own database, in the same
//! transaction as the change when the framework allows, are sent to ingest in order, in
//! batches, with backoff while authhooks is unreachable; a row is removed only once ingest
//! has accepted it, so an outage or a restart loses nothing, and a re-send is a duplicate.
import type { IdentityEvent } from "./event.js";
import { IngestClient, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, type IngestOptions } from "./ingest.js";

export interface OutboxRow {
  /** The row's key in the store (often the event id). */
  key: string;
  event: IdentityEvent;
}

/** Where pending events live: a table in the producer's database. */
export interface OutboxStore {
  /** The oldest pending (not buried) events, in the order they were written. */
  pending(limit: number): Promise<OutboxRow[]>;
  /** Accepted by ingest: nothing more to do. */
  remove(keys: string[]): Promise<void>;
  /** Refused by ingest for good (malformed): kept for inspection, never sent again. */
  bury(key: string, reason: string): Promise<void>;
}

export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

export interface FlusherOptions {
  ingest: IngestClient | IngestOptions;
  store: OutboxStore;
  /** How often the outbox is looked at when nothing kicks it. Default 1 s. */
  intervalMs?: number;
  /** First and largest wait after a failed send. Defaults 500 ms and 60 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
  /** For jitter; tests pass their own. */
  random?: () => number;
}

export interface FlushReport {
  sent: number;
  buried: number;
  /** Set when ingest could not take the events: they wait for the next try. */
  failure?: string;
}

export const consoleLogger: Logger = {
  warn: (m) => console.warn(`authhooks: ${m}`),
  error: (m) => console.error(`authhooks: ${m}`),
};

export class OutboxFlusher {
  readonly #ingest: IngestClient;
  readonly #store: OutboxStore;
  readonly #intervalMs: number;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #logger: Logger;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<FlushReport> | undefined;
  #again = false;
  #started = false;
  #failures = 0;
  #notBefore = 0;

  constructor(options: FlusherOptions) {
    this.#ingest = options.ingest instanceof IngestClient ? options.ingest : new IngestClient(options.ingest);
    this.#store = options.store;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#minBackoffMs = options.minBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.#logger = options.logger ?? consoleLogger;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the background loop. Its timer never keeps the process alive on its own. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops the loop after the send in progress, if any. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** Something was written: send it soon, unless ingest is being waited for. */
  kick(): void {
    if (!this.#started) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(Math.max(0, this.#notBefore - Date.now()));
  }

  /** Consecutive failed sends since the last success (0 when healthy). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Sends everything pending now, oldest first, and reports; one flush at a time. Ingest
   * being down is not an error here: the events stay and the report says why.
   */
  flush(): Promise<FlushReport> {
    if (this.#running) return this.#running.then(() => this.flush());
    const run = this.#drain().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#again = false;
    let report: FlushReport;
    try {
      report = await this.flush();
    } catch (error) {
      // The store itself failed (database down): the events are still in it; try again.
      report = { sent: 0, buried: 0, failure: `outbox store: ${String(error)}` };
      this.#failed(report.failure!);
    }
    if (report.failure !== undefined) {
      this.#schedule(Math.max(0, this.#notBefore - Date.now()));
    } else {
      this.#schedule(this.#again ? 0 : this.#intervalMs);
    }
  }

  async #drain(): Promise<FlushReport> {
    const report: FlushReport = { sent: 0, buried: 0 };
    for (;;) {
      const rows = batchOf(await this.#store.pending(MAX_BATCH_EVENTS));
      if (rows.length === 0) return report;
      const outcome = await this.#send(rows, report);
      if (outcome !== undefined) {
        report.failure = outcome;
        return report;
      }
    }
  }

  /** One batch; answers the failure that stopped it, or nothing when it went through. */
  async #send(rows: OutboxRow[], report: FlushReport): Promise<string | undefined> {
    const outcome = await this.#ingest.send(rows.map((r) => r.event));
    switch (outcome.kind) {
      case "accepted":
        await this.#store.remove(rows.map((r) => r.key));
        report.sent += rows.length;
        this.#recovered();
        return undefined;
      case "retry":
        this.#failed(outcome.reason, outcome.retryAfterMs);
        return outcome.reason;
      case "refused":
        if (rows.length > 1) {
          // Find the event that spoils the batch: the others still go, in their order.
          for (const row of rows) {
            const failure = await this.#send([row], report);
            if (failure !== undefined) return failure;
          }
          return undefined;
        }
        this.#logger.error(`event ${rows[0]!.event.id} (${rows[0]!.event.type}) refused for good: ${outcome.reason}`);
        await this.#store.bury(rows[0]!.key, outcome.reason);
        report.buried += 1;
        return undefined;
    }
  }

  #failed(reason: string, retryAfterMs?: number): void {
    this.#failures += 1;
    const ceiling = Math.min(this.#maxBackoffMs, this.#minBackoffMs * 2 ** Math.min(this.#failures - 1, 30));
    // Jitter in [ceiling/2, ceiling], so many producers coming back do not arrive together.
    const wait = Math.max(ceiling / 2 + (this.#random() * ceiling) / 2, retryAfterMs ?? 0);
    this.#notBefore = Date.now() + wait;
    if (this.#failures === 1 || this.#failures % 10 === 0) {
      this.#logger.warn(`events wait in the outbox (${this.#failures} failed sends): ${reason}`);
    }
  }

  #recovered(): void {
    if (this.#failures > 0) this.#logger.warn(`ingest reachable again after ${this.#failures} failed sends`);
    this.#failures = 0;
    this.#notBefore = 0;
  }
}

/** The longest prefix that fits one ingest request. */
function batchOf(rows: OutboxRow[]): OutboxRow[] {
  let bytes = 16;
  for (let i = 0; i < rows.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(rows[i]!.event)) + 1;
    if (bytes > MAX_BATCH_BYTES) return rows.slice(0, Math.max(1, i));
  }
  return rows;
}
