//! The identity event as producers send it to ingest, and as endpoints receive it.
import { randomUUID } from "node:crypto";

/** What a producer posts to `POST /v1/events` (docs/architecture.md §3.1). */
export interface IdentityEvent {
  /** Stable id: a re-send of the same id is recognised by ingest as a duplicate. */
  id: string;
  type: string;
  /** When the change happened at its source (RFC 3339): the stale-update rule compares it. */
  timestamp: string;
  data: Record<string, unknown>;
  /** The entity it is about: ordering and the stale-update rule are per subject. */
  subject?: string;
  /** The system that made the change: authhooks never sends it back there. */
  origin?: string;
  tenant_id?: string;
  correlation_id?: string;
}

/** What an endpoint receives: the event as ingest normalized it, with its `sequence`. */
export interface Delivery extends IdentityEvent {
  /** Strictly increasing per ingest: the order in which authhooks accepted the events. */
  sequence?: number;
}

export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
  subject?: string | undefined;
  origin?: string | undefined;
  tenantId?: string | undefined;
  /** Defaults to now. */
  at?: Date | undefined;
}

/** A fresh event with a new id; the id is what makes every later re-send harmless. */
export function newEvent(input: NewEvent): IdentityEvent {
  const event: IdentityEvent = {
    id: `evt_${randomUUID()}`,
    type: input.type,
    timestamp: (input.at ?? new Date()).toISOString(),
    data: input.data,
  };
  if (input.subject !== undefined) event.subject = input.subject;
  if (input.origin !== undefined) event.origin = input.origin;
  if (input.tenantId !== undefined) event.tenant_id = input.tenantId;
  return event;
}
