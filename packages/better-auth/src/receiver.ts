//! The receiver of changes made in other systems (a CMS editor renaming a user): verifies
//! the delivery, judges it against where the subject's state came from, and applies it
//! with the loop guard's marker, all in one transaction where the database has them.
import { freshness, stateOf, type Delivery } from "@authhooks/sync";
import type { AuthContext } from "better-auth";
import { getCurrentAdapter, runWithTransaction } from "@better-auth/core/context";
import { recordSubject, subjectState, type Adapter } from "./tables.js";
import { withoutEmitting } from "./quiet.js";

/** What the receiver did with a delivery; the answer's body says it. */
export type Outcome = "applied" | "duplicate" | "stale" | "ignored";

/** User fields another system may change here. Email is opt-in: it is how an account is recovered. */
export type ReceivedField = "name" | "image" | "email";

export interface ReceiveOptions {
  /** The endpoint's `whsec_…` secrets (comma-separated or a list), newest first. */
  secrets: string | string[];
  /** Default `["name", "image"]`. */
  fields?: ReceivedField[];
  /** Apply `user.deleted` from other systems. Default true. */
  deletes?: boolean;
}

const USER_CHANGES = new Set(["user.updated", "user.deleted", "user.banned", "user.unbanned", "user.created"]);

export async function applyDelivery(context: AuthContext, delivery: Delivery, options: ReceiveOptions, self: string): Promise<Outcome> {
  const subject = delivery.subject;
  // Our own events never come back (authhooks' origin guard); if one does, it is an echo.
  if (!subject || !USER_CHANGES.has(delivery.type) || delivery.origin === self) return "ignored";
  const incoming = stateOf(delivery);
  return withoutEmitting(() =>
    runWithTransaction(context.adapter, async () => {
      const db = (await getCurrentAdapter(context.adapter)) as unknown as Adapter;
      const verdict = freshness(await subjectState(db, subject), incoming);
      if (verdict !== "apply") return verdict;
      const outcome = await change(context, delivery, subject, options);
      // Recorded even when nothing changed (a user unknown here): a late, older change of
      // the same subject must still lose against this one.
      await recordSubject(db, subject, incoming);
      return outcome;
    }),
  );
}

async function change(context: AuthContext, delivery: Delivery, subject: string, options: ReceiveOptions): Promise<Outcome> {
  const internal = context.internalAdapter;
  // Sign-up belongs to the auth server: a user created elsewhere has no credentials here.
  if (delivery.type === "user.created") return "ignored";
  const user = await internal.findUserById(subject);
  if (!user) return "ignored";
  if (delivery.type === "user.deleted") {
    if (options.deletes === false) return "ignored";
    await internal.deleteUser(subject);
    return "applied";
  }
  const patch = fieldsOf(delivery.data["user"], options.fields ?? ["name", "image"]);
  if (Object.keys(patch).length === 0) return "ignored";
  await internal.updateUser(subject, patch);
  return "applied";
}

function fieldsOf(user: unknown, fields: ReceivedField[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (typeof user !== "object" || user === null) return patch;
  const u = user as Record<string, unknown>;
  for (const field of fields) {
    const value = u[field];
    if (field === "email") {
      if (typeof value === "string" && value.includes("@")) patch["email"] = value;
    } else if (field === "name") {
      // Better Auth requires a name: an empty or missing one leaves the current name.
      if (typeof value === "string" && value.trim() !== "") patch["name"] = value;
    } else if (typeof value === "string" || value === null) {
      patch[field] = value;
    }
  }
  return patch;
}
