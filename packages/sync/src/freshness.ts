//! The stale-update rule of a two-way sync. Each side keeps, per subject, where the state it
//! holds came from: when the change was made at its source, by which system, and the
//! `sequence` authhooks gave it. An incoming change is applied only if it is newer.
import type { Delivery } from "./event.js";

/** Where a subject's current state came from. */
export interface SubjectState {
  /** When the change was made at its source (RFC 3339). */
  changedAt: string;
  /** The system that made it (`origin`), this system itself for a local edit. */
  origin: string;
  /** authhooks' sequence of the event that brought it; null for a local edit. */
  sequence: number | null;
}

export type Freshness = "apply" | "duplicate" | "stale";

/**
 * Two changes from the same source are ordered by authhooks' `sequence`, exact even within
 * one millisecond. Changes from different systems are ordered by when they were made (last
 * writer wins, ties broken by origin name so both sides decide alike): both sides compare
 * the same two timestamps, so they agree on the winner and end in the same state.
 */
export function freshness(current: SubjectState | null | undefined, incoming: SubjectState): Freshness {
  if (!current) return "apply";
  if (incoming.origin === current.origin && incoming.sequence !== null && current.sequence !== null) {
    if (incoming.sequence > current.sequence) return "apply";
    return incoming.sequence === current.sequence ? "duplicate" : "stale";
  }
  const a = Date.parse(incoming.changedAt);
  const b = Date.parse(current.changedAt);
  if (a !== b) return a > b ? "apply" : "stale";
  if (incoming.origin === current.origin) return "duplicate";
  return incoming.origin > current.origin ? "apply" : "stale";
}

/** The state a delivered event would leave behind. */
export function stateOf(delivery: Delivery, fallbackOrigin = "unknown"): SubjectState {
  return {
    changedAt: delivery.timestamp,
    origin: delivery.origin ?? fallbackOrigin,
    sequence: typeof delivery.sequence === "number" ? delivery.sequence : null,
  };
}
