//! `authhooks(options)`: the Payload plugin. Adds the mirror collection (or its fields), the
//! receipts and outbox collections, the receiver endpoint, and — with `ingest` — the emit
//! hooks and the outbox flusher started from `onInit`.
import { consoleLogger, DeliveryVerifier } from "@authhooks/sync";
import type { CollectionConfig, Config, Plugin } from "payload";
import { mirrorCollection, outboxCollection, receiptsCollection, withSyncFields } from "./collections.js";
import { emitOnChange, emitOnDelete, stampLocalEdit, type EmitSettings } from "./emit.js";
import { defaultFromDoc, defaultToDoc, OUTBOX, RECEIPTS, type AuthhooksPluginOptions } from "./options.js";
import { startFlusher } from "./outbox.js";
import { receiverEndpoint } from "./receiver.js";

export function authhooks(options: AuthhooksPluginOptions): Plugin {
  // Built now, so a missing secret fails at startup rather than at the first delivery.
  const verifier = new DeliveryVerifier(options.secrets);
  const logger = options.logger ?? consoleLogger;
  const origin = options.origin ?? "payload";
  const path = options.path ?? "/authhooks";
  const toDoc = options.toDoc ?? defaultToDoc;
  const fromDoc = options.fromDoc ?? defaultFromDoc;

  return (config: Config): Config => {
    const existing = config.collections ?? [];
    for (const slug of [RECEIPTS, OUTBOX]) {
      if (existing.some((c) => c.slug === slug)) throw new Error(`authhooks: the config already has a collection "${slug}"`);
    }
    const found = existing.find((c) => c.slug === options.collection);
    let mirror: CollectionConfig = found ? withSyncFields(found) : mirrorCollection(options.collection);
    const emit: EmitSettings = { origin, fromDoc };
    if (options.ingest) mirror = withEmitHooks(mirror, emit);

    const collections = found ? existing.map((c) => (c === found ? mirror : c)) : [...existing, mirror];
    collections.push(receiptsCollection);
    if (options.ingest) collections.push(outboxCollection);

    const endpoint = receiverEndpoint({ path, collection: options.collection, trash: Boolean(mirror.trash), verifier, toDoc, logger });
    const previousInit = config.onInit;
    const ingest = options.ingest;
    return {
      ...config,
      collections,
      endpoints: [...(config.endpoints ?? []), endpoint],
      onInit: async (payload) => {
        await previousInit?.(payload);
        if (ingest) startFlusher(payload, { ingest, flush: options.flush, logger });
      },
    };
  };
}

function withEmitHooks(collection: CollectionConfig, emit: EmitSettings): CollectionConfig {
  const hooks = collection.hooks ?? {};
  return {
    ...collection,
    hooks: {
      ...hooks,
      beforeChange: [...(hooks.beforeChange ?? []), stampLocalEdit(emit)],
      afterChange: [...(hooks.afterChange ?? []), emitOnChange(emit)],
      afterDelete: [...(hooks.afterDelete ?? []), emitOnDelete(emit)],
    },
  };
}
