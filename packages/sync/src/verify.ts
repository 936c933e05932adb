//! Verification of what authhooks delivers: the Standard Webhooks signature over the exact
//! bytes received, with every secret that may sign during a rotation's grace period.
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { Delivery } from "./event.js";

export class DeliveryRejected extends Error {
  override readonly name = "DeliveryRejected";
  constructor(
    message: string,
    /** The HTTP status to answer: 401 for a signature, 400 for a body that is no event. */
    readonly status: 400 | 401,
  ) {
    super(message);
  }
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export class DeliveryVerifier {
  readonly #verifiers: Webhook[];

  /** `secrets`: the endpoint's `whsec_…` secrets, newest first; any one that verifies is enough. */
  constructor(secrets: string | readonly string[]) {
    const list = (typeof secrets === "string" ? secrets.split(",") : [...secrets]).map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) throw new Error("authhooks: no endpoint secret configured to verify deliveries");
    this.#verifiers = list.map((s) => new Webhook(s));
  }

  /** The delivered event, or `DeliveryRejected`. `raw` must be the body exactly as received. */
  verify(raw: string, headers: HeaderSource): Delivery {
    const flat = flatten(headers);
    let verified = false;
    for (const verifier of this.#verifiers) {
      try {
        verifier.verify(raw, flat);
        verified = true;
        break;
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
      }
    }
    if (!verified) throw new DeliveryRejected("signature does not verify", 401);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new DeliveryRejected("body is not JSON", 400);
    }
    if (!isDelivery(body)) throw new DeliveryRejected("body is not an event", 400);
    return body;
  }
}

function flatten(headers: HeaderSource): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function isDelivery(value: unknown): value is Delivery {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["id"] === "string" &&
    typeof v["type"] === "string" &&
    typeof v["timestamp"] === "string" &&
    typeof v["data"] === "object" &&
    v["data"] !== null &&
    (v["subject"] === undefined || typeof v["subject"] === "string") &&
    (v["sequence"] === undefined || typeof v["sequence"] === "number")
  );
}
