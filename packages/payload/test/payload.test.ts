//! The plugin in a real Payload (SQLite file database) served over HTTP, with a real
//! `authhooks dev` (on moto, so it can be stopped and started again) delivering to it and
//! taking its local edits back; a testkit `Receiver` stands for the identity provider.
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { sqliteAdapter } from "@payloadcms/db-sqlite";
import { IngestClient, newEvent, type IdentityEvent, type Logger } from "@authhooks/sync";
import { newSecret, Receiver, serveFetch, startAuthhooks, startMoto, until, type Authhooks, type Moto, type Served } from "@authhooks/testkit";
import { buildConfig, createLocalReq, getPayload, handleEndpoints, initTransaction, killTransaction, type Payload, type SanitizedConfig } from "payload";
import { authhooks, authhooksOutbox, OUTBOX, RECEIPTS } from "../src/index.js";

const MEMBERS = "members";
const dbFile = `/tmp/authhooks-payload-${randomUUID()}.db`;
const warnings: string[] = [];
const logger: Logger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };

let moto: Moto;
let ah: Authhooks;
let payload: Payload;
let served: Served;
let receiver: Receiver;
let ingest: IngestClient;
const endpointSecret = newSecret();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Doc = Record<string, unknown> & { id: number | string };

async function member(authId: string): Promise<Doc | undefined> {
  const found = await payload.find({ collection: MEMBERS, where: { authId: { equals: authId } }, trash: true, depth: 0 });
  return found.docs[0] as Doc | undefined;
}
async function count(collection: string, where: Record<string, unknown> = {}): Promise<number> {
  return (await payload.count({ collection, where: where as never })).totalDocs;
}
function userEvent(type: string, subject: string, user: Record<string, unknown>, at?: Date, origin = "better-auth"): IdentityEvent {
  return newEvent({ type, subject, origin, at, data: { user: { id: subject, ...user } } });
}
async function send(...events: IdentityEvent[]): Promise<void> {
  for (const event of events) {
    const outcome = await ingest.send([event]);
    assert.equal(outcome.kind, "accepted", JSON.stringify(outcome));
  }
}
/** A delivery signed like authhooks signs it, posted straight to the receiver. */
async function deliver(delivery: { id: string }, secret = endpointSecret): Promise<Response> {
  const body = JSON.stringify(delivery);
  const id = delivery.id;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return fetch(`${served.url}/api/authhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${signature}` },
    body,
  });
}
const fromPayload = (subject: string) => receiver.received.filter((r) => r.event.origin === "payload" && r.event.subject === subject);

before(async () => {
  moto = await startMoto();
  ah = await startAuthhooks({ awsEndpoint: moto.url });
  ingest = new IngestClient({ url: ah.ingestUrl, secret: ah.ingestSecret, timeoutMs: 2_000 });
  const config: Promise<SanitizedConfig> = buildConfig({
    secret: "test-secret-for-payload",
    telemetry: false,
    typescript: { autoGenerate: false },
    graphQL: { disable: true },
    logger: { options: { level: "warn" } },
    // db-sqlite runs without transactions unless given transactionOptions.
    db: sqliteAdapter({ client: { url: `file:${dbFile}` }, transactionOptions: {} }),
    collections: [],
    plugins: [
      authhooks({
        collection: MEMBERS,
        secrets: endpointSecret,
        ingest: { url: ah.ingestUrl, secret: ah.ingestSecret, timeoutMs: 1_000 },
        flush: { intervalMs: 200, minBackoffMs: 100, maxBackoffMs: 400 },
        logger,
      }),
    ],
  });
  payload = await getPayload({ config });
  served = await serveFetch((request) => handleEndpoints({ config, request }));
  await ah.admin.createEndpoint({ url: `${served.url}/api/authhooks`, secret: endpointSecret, event_types: ["user.*"], origin: "payload" });
  receiver = await new Receiver().listen();
  receiver.trust((await ah.admin.createEndpoint({ url: receiver.url, event_types: ["user.*"], origin: "better-auth" })).secret);
});

after(async () => {
  // AUTHHOOKS_TEST_LOG=1 prints what the plugin logged (the flusher's warnings during the outage).
  if (process.env["AUTHHOOKS_TEST_LOG"]) console.log(warnings.join("\n"));
  // Child processes first, each step on its own: one failing step must not leave a server running.
  const steps = [
    () => authhooksOutbox(payload)?.stop(),
    () => ah?.child.kill(),
    () => moto?.child.kill(),
    () => served?.close(),
    () => receiver?.close(),
    () => payload?.destroy(),
  ];
  for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  rmSync(dbFile, { force: true });
});

describe("receiving", () => {
  test("created, updated, updated rapidly (the last wins), deleted to the trash", async () => {
    await send(userEvent("user.created", "u_life", { email: "life@example.com", name: "Life", email_verified: false }));
    await until(async () => (await member("u_life")) !== undefined, "the doc is created");
    let doc = (await member("u_life"))!;
    assert.equal(doc["email"], "life@example.com");
    assert.equal(doc["name"], "Life");
    assert.equal(doc["authhooksOrigin"], "better-auth");
    assert.equal(typeof doc["authhooksSequence"], "number");

    await send(userEvent("user.updated", "u_life", { email: "life@example.com", name: "Life 2", email_verified: true }));
    await until(async () => (await member("u_life"))?.["name"] === "Life 2", "the doc is updated");
    assert.equal((await member("u_life"))!["emailVerified"], true);

    for (let n = 1; n <= 8; n++) await send(userEvent("user.updated", "u_life", { name: `rapid ${n}` }));
    await until(async () => (await member("u_life"))?.["name"] === "rapid 8", "the last update wins");
    await until(async () => (await count(RECEIPTS, { subject: { equals: "u_life" } })) === 10, "every update received");
    assert.equal((await member("u_life"))!["name"], "rapid 8");

    await send(userEvent("user.deleted", "u_life", {}));
    await until(async () => Boolean((await member("u_life"))?.["deletedAt"]), "the doc is trashed");
    const visible = await payload.find({ collection: MEMBERS, where: { authId: { equals: "u_life" } } });
    assert.equal(visible.totalDocs, 0, "not seen without trash: true");
    doc = (await member("u_life"))!;
    assert.equal(doc["name"], "rapid 8", "soft deleted, not erased");
  });

  test("the same delivery twice is applied once", async () => {
    const seq = Date.now() * 1000;
    const event = { ...userEvent("user.created", "u_twice", { email: "twice@example.com", name: "Twice" }), sequence: seq };
    const first = await deliver(event);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { duplicate: false, outcome: "applied" });
    const again = await deliver(event);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { duplicate: boolean }).duplicate, true);
    assert.equal(await count(RECEIPTS, { eventId: { equals: event.id } }), 1);
    assert.equal(await count(MEMBERS, { authId: { equals: "u_twice" } }), 1);

    // An event the plugin does not apply is still received once.
    const other = newEvent({ type: "session.created", subject: "u_twice", data: { session: {} } });
    assert.deepEqual(await (await deliver(other)).json(), { duplicate: false, outcome: "ignored" });
    assert.equal(((await (await deliver(other)).json()) as { duplicate: boolean }).duplicate, true);
  });

  test("an older change arriving after a newer one is dropped", async () => {
    const now = Date.now();
    // Different origins: the change made later wins, whatever the order of arrival.
    await send(userEvent("user.created", "u_old", { name: "newer" }, new Date(now)));
    await until(async () => (await member("u_old"))?.["name"] === "newer", "created");
    await send(userEvent("user.updated", "u_old", { name: "older" }, new Date(now - 60_000), "admin-tool"));
    await until(async () => (await count(RECEIPTS, { subject: { equals: "u_old" } })) === 2, "the older one received");
    const receipts = (await payload.find({ collection: RECEIPTS, where: { subject: { equals: "u_old" } }, sort: "-createdAt" })).docs;
    const seen = JSON.stringify({ doc: await member("u_old"), receipts });
    assert.equal((await member("u_old"))!["name"], "newer", seen);
    assert.equal((receipts[0] as Doc)["outcome"], "stale", seen);

    // One origin: authhooks' sequence decides, even against a later timestamp.
    const base = { subject: "u_seq", origin: "better-auth", timestamp: new Date(now).toISOString() };
    const newer = { ...base, id: `evt_${randomUUID()}`, type: "user.created", sequence: 2_000, data: { user: { name: "seq 2000" } } };
    const older = { ...base, id: `evt_${randomUUID()}`, type: "user.updated", sequence: 1_000, timestamp: new Date(now + 60_000).toISOString(), data: { user: { name: "seq 1000" } } };
    assert.equal((await deliver(newer)).status, 200);
    assert.deepEqual(await (await deliver(older)).json(), { duplicate: false, outcome: "stale" });
    assert.equal((await member("u_seq"))!["name"], "seq 2000");
  });

  test("a bad signature is refused with 401 and nothing is stored", async () => {
    const event = userEvent("user.created", "u_forged", { name: "Forged" });
    const response = await deliver(event, newSecret());
    assert.equal(response.status, 401);
    assert.equal(await count(RECEIPTS, { eventId: { equals: event.id } }), 0);
    assert.equal(await member("u_forged"), undefined);
  });
});

describe("sending back", () => {
  test("a local edit reaches the other side; a change authhooks brought is not sent back", async () => {
    await send(userEvent("user.created", "u_edit", { email: "edit@example.com", name: "Before", email_verified: true }));
    await until(async () => (await member("u_edit")) !== undefined, "created");
    const doc = (await member("u_edit"))!;

    await payload.update({ collection: MEMBERS, id: doc.id, data: { name: "Edited in Payload" } });

    await until(() => fromPayload("u_edit").length === 1, "the edit is delivered");
    const [got] = fromPayload("u_edit");
    assert.equal(got!.event.type, "user.updated");
    assert.deepEqual(got!.event.data["user"], {
      id: "u_edit",
      email: "edit@example.com",
      name: "Edited in Payload",
      email_verified: true,
      image: null,
      banned: false,
    });
    const stamped = (await member("u_edit"))!;
    assert.equal(stamped["authhooksOrigin"], "payload");
    assert.equal((got!.event as { timestamp?: string }).timestamp, stamped["authhooksChangedAt"]);
    await until(async () => (await count(OUTBOX)) === 0, "the outbox drains");

    // authhooks' own change, applied by the receiver: no outbox row, nothing delivered.
    await send(userEvent("user.updated", "u_edit", { name: "From Better Auth" }));
    await until(async () => (await member("u_edit"))?.["name"] === "From Better Auth", "applied");
    assert.equal(await count(OUTBOX), 0);
    await sleep(1_500);
    assert.equal(fromPayload("u_edit").length, 1, "only the local edit came back");
  });

  test("an edit rolled back leaves no event", async () => {
    await send(userEvent("user.created", "u_rollback", { name: "Kept" }));
    await until(async () => (await member("u_rollback")) !== undefined, "created");
    const doc = (await member("u_rollback"))!;

    const req = await createLocalReq({}, payload);
    assert.equal(await initTransaction(req), true);
    await payload.update({ collection: MEMBERS, id: doc.id, data: { name: "Rolled back" }, req });
    assert.equal((await payload.count({ collection: OUTBOX, req })).totalDocs, 1, "the row is in the edit's transaction");
    await killTransaction(req);

    assert.equal(await count(OUTBOX), 0);
    assert.equal((await member("u_rollback"))!["name"], "Kept");
    await sleep(1_000);
    assert.equal(fromPayload("u_rollback").length, 0);
  });

  test("with authhooks down the edit still succeeds, and its event goes once it is back", async () => {
    await send(userEvent("user.created", "u_outage", { name: "Up" }));
    await until(async () => (await member("u_outage")) !== undefined, "created");
    const doc = (await member("u_outage"))!;
    await ah.child.kill();
    // The killed consumer's last long poll (1 s) could still take messages sent now.
    await sleep(1_500);

    // The save succeeds: the hooks only write the outbox row, they never call authhooks.
    await payload.update({ collection: MEMBERS, id: doc.id, data: { name: "Edited during the outage" } });
    const report = await authhooksOutbox(payload)!.flush();
    assert.match(report.failure ?? "", /unreachable/);
    assert.equal(await count(OUTBOX, { status: { equals: "pending" } }), 1, "the event waits in the outbox");

    ah = await startAuthhooks(ah.options);
    await until(() => fromPayload("u_outage").length === 1, "delivered once authhooks is back", { timeoutMs: 30_000 });
    assert.equal((fromPayload("u_outage")[0]!.event.data["user"] as { name: string }).name, "Edited during the outage");
    await until(async () => (await count(OUTBOX)) === 0, "the outbox drains");
  });
});
