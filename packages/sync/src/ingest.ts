//! A client for authhooks' ingest: posts a batch of events signed with the ingest secret
//! and says what the answer means for the outbox (sent, try again later, or never).
import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { IdentityEvent } from "./event.js";

/** Ingest's own limits (docs/architecture.md §3.1): 100 events and 1 MiB a request. */
export const MAX_BATCH_EVENTS = 100;
export const MAX_BATCH_BYTES = 900 * 1024;

export interface IngestOptions {
  /** The ingest URL, `…/v1/events`. */
  url: string;
  /** The ingest secret, `whsec_…`. */
  secret: string;
  /** Per request; the flusher retries after it. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type IngestOutcome =
  | { kind: "accepted" }
  /** Worth retrying as it is: authhooks is down, overloaded, or our clock/secret is off. */
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  /** The events themselves were refused; re-sending them will never succeed. */
  | { kind: "refused"; status: number; reason: string };

export class IngestClient {
  readonly #url: string;
  readonly #signer: Webhook;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: IngestOptions) {
    this.#url = options.url;
    this.#signer = new Webhook(options.secret);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async send(events: IdentityEvent[]): Promise<IngestOutcome> {
    const body = events.length === 1 ? JSON.stringify(events[0]) : JSON.stringify({ events });
    // The request id only authenticates this request; each event's own id deduplicates.
    const requestId = events.length === 1 ? events[0]!.id : `req_${randomUUID()}`;
    const now = new Date();
    let response: Response;
    try {
      response = await this.#fetch(this.#url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": requestId,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": this.#signer.sign(requestId, now, body),
        },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      return { kind: "retry", reason: `ingest unreachable: ${describe(error)}` };
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return { kind: "accepted" };
    const reason = `ingest answered ${response.status}: ${text.slice(0, 300)}`;
    // 401 is a wrong secret or a skewed clock: fixable by an operator, so the events wait.
    if (response.status === 401 || response.status === 408 || response.status === 429 || response.status >= 500) {
      const retryAfterMs = retryAfter(response.headers.get("retry-after"));
      return retryAfterMs === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs };
    }
    return { kind: "refused", status: response.status, reason };
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const secs = Number(header);
  return Number.isFinite(secs) && secs >= 0 ? Math.min(secs, 3600) * 1000 : undefined;
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
