//! The receiver: a Payload root endpoint that verifies a delivery, then in one transaction
//! records its receipt and applies it to the mirror collection unless it is a duplicate or
//! older than what the doc already holds. 2xx only after the commit, so authhooks retries
//! anything that did not land, and nothing is ever half-applied.
import { DeliveryRejected, DeliveryVerifier, freshness, stateOf, type Delivery, type Logger, type SubjectState } from "@authhooks/sync";
import { commitTransaction, initTransaction, killTransaction, type Endpoint, type PayloadRequest } from "payload";
import { createDoc, deleteDoc, findDocs, updateDoc, type Doc, type Scope } from "./local.js";
import { MARKER, RECEIPTS, type AuthUser, type DocData } from "./options.js";

const USER_EVENTS = new Set(["user.created", "user.updated", "user.banned", "user.unbanned", "user.deleted"]);

export interface ReceiverSettings {
  path: string;
  collection: string;
  /** Whether the mirror collection soft-deletes (`trash: true`). */
  trash: boolean;
  verifier: DeliveryVerifier;
  toDoc: (user: AuthUser) => DocData;
  logger: Logger;
}

type Outcome = "applied" | "stale" | "ignored";

export function receiverEndpoint(settings: ReceiverSettings): Endpoint {
  let warnedNoTransactions = false;
  return {
    path: settings.path,
    method: "post",
    handler: async (req: PayloadRequest) => {
      // The signature covers the exact bytes: read them raw, never re-serialize parsed JSON.
      const raw = req.text ? await req.text() : "";
      let delivery: Delivery;
      try {
        delivery = settings.verifier.verify(raw, req.headers);
      } catch (error) {
        if (error instanceof DeliveryRejected) return problem(error.status, error.status === 401 ? "Unauthorized" : "Bad Request", error.message);
        throw error;
      }
      // Every write below is the receiver's: the emit hooks must not send it back.
      req.context = { ...req.context, [MARKER]: true };
      const shouldCommit = await initTransaction(req);
      if (!req.transactionID && !warnedNoTransactions) {
        warnedNoTransactions = true;
        settings.logger.warn(
          "the database adapter runs without transactions: receipts and changes are not atomic " +
            "(with @payloadcms/db-sqlite, set `transactionOptions`)",
        );
      }
      try {
        const body = await receive({ payload: req.payload, req, context: { [MARKER]: true } }, delivery, settings);
        if (shouldCommit) await commitTransaction(req);
        return Response.json(body, { status: 200 });
      } catch (error) {
        await killTransaction(req);
        settings.logger.error(`delivery ${delivery.id} (${delivery.type}) not applied, authhooks will retry: ${String(error)}`);
        return problem(500, "Internal Server Error", "the delivery was not applied; retry");
      }
    },
  };
}

async function receive(scope: Scope, delivery: Delivery, settings: ReceiverSettings): Promise<Record<string, unknown>> {
  const seen = await findDocs(scope, RECEIPTS, { eventId: { equals: delivery.id } }, { limit: 1 });
  if (seen.length > 0) return { duplicate: true, outcome: seen[0]!["outcome"] };
  const outcome =
    USER_EVENTS.has(delivery.type) && delivery.subject !== undefined ? await applyUserEvent(scope, delivery, delivery.subject, settings) : "ignored";
  await createDoc(scope, RECEIPTS, {
    eventId: delivery.id,
    type: delivery.type,
    subject: delivery.subject ?? null,
    outcome,
    at: new Date().toISOString(),
  });
  return { duplicate: false, outcome };
}

async function applyUserEvent(scope: Scope, delivery: Delivery, subject: string, settings: ReceiverSettings): Promise<Outcome> {
  // trash: a deleted user's doc still holds the state a late, older update must lose to.
  const [doc] = await findDocs(scope, settings.collection, { authId: { equals: subject } }, { limit: 1, trash: true });
  const incoming = stateOf(delivery);
  // "duplicate" is the same state already held: nothing to change either.
  if (freshness(doc ? stateOfDoc(doc) : null, incoming) !== "apply") return "stale";
  const sync: DocData = {
    authhooksChangedAt: incoming.changedAt,
    authhooksOrigin: incoming.origin,
    authhooksSequence: incoming.sequence,
  };
  if (delivery.type === "user.deleted") {
    if (!doc) return "applied";
    if (settings.trash) await updateDoc(scope, settings.collection, doc.id, { ...sync, deletedAt: new Date().toISOString() });
    else await deleteDoc(scope, settings.collection, doc.id);
    return "applied";
  }
  const data = { ...settings.toDoc(userOf(delivery)), ...sync };
  if (delivery.type === "user.banned") data["banned"] ??= true;
  if (delivery.type === "user.unbanned") data["banned"] ??= false;
  if (!doc) {
    await createDoc(scope, settings.collection, { ...data, authId: subject });
  } else {
    // A newer change of a user whose doc is in the trash means the user exists again.
    if (settings.trash && doc["deletedAt"]) data["deletedAt"] = null;
    await updateDoc(scope, settings.collection, doc.id, data);
  }
  return "applied";
}

function userOf(delivery: Delivery): AuthUser {
  const user = delivery.data["user"];
  return typeof user === "object" && user !== null && !Array.isArray(user) ? (user as AuthUser) : {};
}

/** The doc's sync fields as a `SubjectState`; none for a doc the plugin never wrote. */
export function stateOfDoc(doc: Doc): SubjectState | null {
  const changedAt = doc["authhooksChangedAt"];
  const origin = doc["authhooksOrigin"];
  const sequence = doc["authhooksSequence"];
  if (typeof changedAt !== "string" || typeof origin !== "string") return null;
  return { changedAt, origin, sequence: typeof sequence === "number" ? sequence : null };
}

function problem(status: number, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}
