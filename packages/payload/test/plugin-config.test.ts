//! What the plugin does to a Payload config, without a database: an app's own collection
//! keeps its fields and hooks and gains only what the sync needs; one-way adds no outbox.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newSecret } from "@authhooks/testkit";
import type { CollectionConfig, Config, Payload } from "payload";
import { authhooks, authhooksOutbox, OUTBOX, RECEIPTS } from "../src/index.js";

const names = (c: CollectionConfig | undefined) => (c?.fields ?? []).flatMap((f) => ("name" in f ? [f.name] : []));
const ingest = { url: "http://127.0.0.1:1/v1/events", secret: newSecret() };

test("an existing collection gains authId and the sync fields; its fields, hooks and onInit stay", async () => {
  const appHook = () => undefined;
  const inits: string[] = [];
  const people: CollectionConfig = { slug: "people", fields: [{ name: "email", type: "email" }], hooks: { afterChange: [appHook] } };
  const config = { collections: [people], onInit: () => void inits.push("app") } as unknown as Config;

  const out = await authhooks({ collection: "people", secrets: [newSecret()], ingest })(config);

  const slugs = (out.collections ?? []).map((c) => c.slug);
  assert.deepEqual(slugs, ["people", RECEIPTS, OUTBOX]);
  const mirror = out.collections!.find((c) => c.slug === "people");
  assert.deepEqual(names(mirror), ["email", "authId", "authhooksChangedAt", "authhooksOrigin", "authhooksSequence"]);
  assert.equal(mirror!.auth, undefined, "a plain collection");
  assert.equal(mirror!.hooks!.afterChange![0], appHook, "the app's hook runs first");
  assert.equal(mirror!.hooks!.afterChange!.length, 2);
  assert.deepEqual(
    (out.endpoints ?? []).map((e) => [e.method, e.path]),
    [["post", "/authhooks"]],
  );
  // onInit chains the app's own; the flusher it starts is stopped again at once.
  const fake = { find: async () => ({ docs: [] }) } as unknown as Payload;
  await out.onInit!(fake);
  assert.deepEqual(inits, ["app"]);
  assert.ok(authhooksOutbox(fake), "a flusher per Payload instance");
  await authhooksOutbox(fake)!.stop();
});

test("one-way: the mirror collection is created with its fields, and no outbox or emit hooks", async () => {
  const out = await authhooks({ collection: "members", secrets: newSecret(), path: "/hooks/auth" })({} as Config);
  const mirror = out.collections!.find((c) => c.slug === "members");
  assert.deepEqual(names(mirror), [
    "authId",
    "email",
    "name",
    "emailVerified",
    "image",
    "banned",
    "authhooksChangedAt",
    "authhooksOrigin",
    "authhooksSequence",
  ]);
  assert.equal(mirror!.trash, true);
  assert.equal(mirror!.hooks, undefined);
  assert.deepEqual((out.collections ?? []).map((c) => c.slug), ["members", RECEIPTS]);
  assert.equal(out.endpoints![0]!.path, "/hooks/auth");
});

test("no endpoint secret is a startup error", () => {
  assert.throws(() => authhooks({ collection: "members", secrets: " , " }), /no endpoint secret/);
});
