//! The loop guard's marker: writes made while applying another system's change run inside
//! it, and the plugin's hooks emit nothing for them, so a change never echoes back.
import { AsyncLocalStorage } from "node:async_hooks";

const applying = new AsyncLocalStorage<true>();

/** Runs `work` so that the authhooks plugin emits no event for the writes it makes. */
export function withoutEmitting<T>(work: () => Promise<T>): Promise<T> {
  return applying.run(true, work);
}

export function isQuiet(): boolean {
  return applying.getStore() === true;
}
