//! The emit-back hooks on the mirror collection: a local edit stamps the doc as this
//! system's newest state and, for a synced user whose mapped data changed, writes a
//! `user.updated` (or `user.deleted`) event to the outbox in the edit's own transaction.
//! Docs created in Payload are not sent: Better Auth owns sign-up, a user is created there.
import { newEvent } from "@authhooks/sync";
import type { CollectionAfterChangeHook, CollectionAfterDeleteHook, CollectionBeforeChangeHook, RequestContext } from "payload";
import { enqueue } from "./outbox.js";
import { MARKER, sameUser, type AuthUser, type DocData } from "./options.js";

export interface EmitSettings {
  origin: string;
  fromDoc: (doc: DocData) => AuthUser;
}

/** A write the receiver made on authhooks' behalf: never sent back (the loop guard). */
function fromAuthhooks(context: RequestContext | undefined): boolean {
  return context?.[MARKER] === true;
}

export function stampLocalEdit(settings: EmitSettings): CollectionBeforeChangeHook {
  return ({ data, originalDoc, operation, context }) => {
    if (fromAuthhooks(context)) return data;
    if (operation === "update" && originalDoc) {
      // An edit of fields the sync does not carry changes nothing the other side knows of:
      // it must not make the doc newer than a change still on its way from there.
      const before = originalDoc as DocData;
      const after: DocData = { ...before, ...(data as DocData) };
      const trashing = Boolean(after["deletedAt"]) && !before["deletedAt"];
      if (!trashing && sameUser(settings.fromDoc(after), settings.fromDoc(before))) return data;
    }
    // A local edit: its own time and origin, no sequence, so the stale-update rule compares it
    // with incoming changes by when each was made.
    return { ...data, authhooksChangedAt: new Date().toISOString(), authhooksOrigin: settings.origin, authhooksSequence: null };
  };
}

export function emitOnChange(settings: EmitSettings): CollectionAfterChangeHook {
  return async ({ doc, previousDoc, operation, context, req }) => {
    if (fromAuthhooks(context) || operation !== "update") return doc;
    const current = doc as DocData;
    const before = (previousDoc ?? {}) as DocData;
    if (typeof current["authId"] !== "string" || current["authId"] === "") return doc;
    // Trashing is the user's deletion. Restoring from the trash sends nothing: the user is
    // gone on the other side, and an update cannot bring them back there.
    const trashed = Boolean(current["deletedAt"]) && !before["deletedAt"];
    const user = settings.fromDoc(current);
    if (!trashed && sameUser(user, settings.fromDoc(before))) return doc;
    await enqueue(req, eventOf(trashed ? "user.deleted" : "user.updated", current, user, changedAt(current), settings));
    return doc;
  };
}

export function emitOnDelete(settings: EmitSettings): CollectionAfterDeleteHook {
  return async ({ doc, context, req }) => {
    const current = doc as DocData;
    if (fromAuthhooks(context) || typeof current["authId"] !== "string" || current["authId"] === "") return doc;
    // A doc emptied from the trash: its deletion was sent when it was trashed.
    if (current["deletedAt"]) return doc;
    await enqueue(req, eventOf("user.deleted", current, settings.fromDoc(current), new Date(), settings));
    return doc;
  };
}

/**
 * The edit's time as stamped on the doc: the event carries the same timestamp the doc keeps,
 * so both sides compare the same two times when deciding which change is newer.
 */
function changedAt(doc: DocData): Date {
  return typeof doc["authhooksChangedAt"] === "string" ? new Date(doc["authhooksChangedAt"]) : new Date();
}

function eventOf(type: string, doc: DocData, user: AuthUser, at: Date, settings: EmitSettings) {
  return newEvent({ type, subject: String(doc["authId"]), origin: settings.origin, at, data: { user } });
}

