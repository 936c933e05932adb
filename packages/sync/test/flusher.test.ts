//! The outbox flusher against a real `authhooks dev`: order, outages, duplicates, refusals.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Receiver, startAuthhooks, startMoto, type Authhooks } from "@authhooks/testkit";
import { newEvent, OutboxFlusher, type IdentityEvent, type Logger } from "../src/index.js";
import { ArrayStore } from "./memory-store.js";

const quiet: Logger = { warn: () => {}, error: () => {} };

function userEvent(subject: string, n: number) {
  return newEvent({ type: "user.updated", subject, origin: "test", data: { user: { id: subject, name: `v${n}` } } });
}

async function eventually(probe: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("outbox flusher with authhooks up", () => {
  let authhooks: Authhooks;
  let receiver: Receiver;

  before(async () => {
    authhooks = await startAuthhooks();
    receiver = await new Receiver().listen();
    const endpoint = await authhooks.admin.createEndpoint({ url: receiver.url, event_types: ["*"] });
    receiver.trust(endpoint.secret);
  });
  after(async () => {
    await authhooks.child.kill();
    await receiver.close();
  });

  test("sends every event once, and one subject's events in the order they were written", async () => {
    const store = new ArrayStore();
    const written: IdentityEvent[] = [];
    for (let n = 0; n < 30; n++) written.push(userEvent(`ordered_${n % 3}`, n));
    store.add(...written);
    const flusher = new OutboxFlusher({ ingest: { url: authhooks.ingestUrl, secret: authhooks.ingestSecret }, store, logger: quiet });

    const report = await flusher.flush();

    assert.deepEqual(report, { sent: 30, buried: 0 });
    assert.equal(store.rows.length, 0, "accepted events leave the outbox");
    const ours = () => receiver.received.filter((r) => r.event.subject?.startsWith("ordered_"));
    await eventually(() => ours().length === 30, "30 deliveries");
    assert.deepEqual(new Set(ours().map((r) => r.id)), new Set(written.map((e) => e.id)), "each event delivered once");
    for (const subject of ["ordered_0", "ordered_1", "ordered_2"]) {
      const got = ours().filter((r) => r.event.subject === subject);
      const bySequence = [...got].sort((a, b) => a.event.sequence! - b.event.sequence!).map((r) => r.id);
      const asWritten = written.filter((e) => e.subject === subject).map((e) => e.id);
      assert.deepEqual(bySequence, asWritten, `${subject}: authhooks accepted them in the order written`);
      assert.deepEqual(got.map((r) => r.id), asWritten, `${subject}: delivered in that order`);
    }
  });

  test("a re-send after a lost acknowledgement is recognised as a duplicate", async () => {
    const store = new ArrayStore();
    const events = [userEvent("dup_1", 1), userEvent("dup_2", 1)];
    store.add(...events);
    store.failNextRemove = true;
    const flusher = new OutboxFlusher({ ingest: { url: authhooks.ingestUrl, secret: authhooks.ingestSecret }, store, logger: quiet });

    await assert.rejects(flusher.flush(), /database went away/);
    assert.equal(store.rows.length, 2, "not removed: the flusher cannot know ingest has them");
    assert.deepEqual(await flusher.flush(), { sent: 2, buried: 0 });

    await eventually(() => receiver.received.filter((r) => r.event.subject?.startsWith("dup_")).length >= 2, "2 deliveries");
    await new Promise((r) => setTimeout(r, 1_000)); // room for a second copy, were there one
    const copies = receiver.received.filter((r) => r.event.subject?.startsWith("dup_"));
    assert.deepEqual(copies.map((r) => r.id).sort(), events.map((e) => e.id).sort(), "sent twice, delivered once");
  });

  test("an event ingest refuses is buried; the rest of its batch still goes, in order", async () => {
    const store = new ArrayStore();
    const bad = { ...userEvent("refused", 2), type: "Not A Type" };
    const good = [userEvent("refused", 1), userEvent("refused", 3)];
    store.add(good[0]!, bad, good[1]!);
    const flusher = new OutboxFlusher({ ingest: { url: authhooks.ingestUrl, secret: authhooks.ingestSecret }, store, logger: quiet });

    assert.deepEqual(await flusher.flush(), { sent: 2, buried: 1 });

    assert.equal(store.buried.length, 1);
    assert.equal(store.buried[0]!.row.event.id, bad.id);
    assert.match(store.buried[0]!.reason, /422/);
    await eventually(() => receiver.received.filter((r) => r.event.subject === "refused").length === 2, "2 deliveries");
    assert.deepEqual(receiver.received.filter((r) => r.event.subject === "refused").map((r) => r.id), good.map((e) => e.id));
  });

  test("with a wrong ingest secret, events wait in the outbox rather than being dropped", async () => {
    const store = new ArrayStore();
    store.add(userEvent("wrong_secret", 1));
    const flusher = new OutboxFlusher({
      ingest: { url: authhooks.ingestUrl, secret: "whsec_" + Buffer.alloc(32, 7).toString("base64") },
      store,
      logger: quiet,
    });

    const report = await flusher.flush();

    assert.match(report.failure ?? "", /401/);
    assert.equal(store.rows.length, 1);
    assert.equal(store.buried.length, 0);
    assert.equal(flusher.failures, 1);
  });
});

test("events written while authhooks is down wait, and go in order once it is back", async () => {
  // authhooks keeps its endpoints in moto's tables, so it can be stopped and started again.
  const moto = await startMoto();
  const receiver = await new Receiver().listen();
  let authhooks = await startAuthhooks({ awsEndpoint: moto.url });
  const endpoint = await authhooks.admin.createEndpoint({ url: receiver.url, event_types: ["*"] });
  receiver.trust(endpoint.secret);
  await authhooks.child.kill();
  // The killed process's last receive (a 1 s long poll) is still open in moto and would
  // take messages sent now, hiding them for the visibility timeout, as SQS can do too.
  await new Promise((r) => setTimeout(r, 1_500));

  const store = new ArrayStore();
  const written = Array.from({ length: 12 }, (_, n) => userEvent("outage", n));
  store.add(...written.slice(0, 6));
  const warnings: string[] = [];
  const flusher = new OutboxFlusher({
    ingest: { url: authhooks.ingestUrl, secret: authhooks.ingestSecret, timeoutMs: 2_000 },
    store,
    intervalMs: 100,
    minBackoffMs: 50,
    maxBackoffMs: 300,
    logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  try {
    const report = await flusher.flush();
    assert.match(report.failure ?? "", /unreachable/);
    assert.equal(store.rows.length, 6, "nothing leaves the outbox while ingest is unreachable");

    flusher.start();
    await new Promise((r) => setTimeout(r, 500));
    store.add(...written.slice(6));
    flusher.kick();
    assert.ok(flusher.failures >= 2, "the loop kept trying");

    authhooks = await startAuthhooks(authhooks.options);
    await eventually(() => store.rows.length === 0, "the outbox drains");
    await eventually(() => receiver.received.length === 12, "12 deliveries", 30_000);
    assert.deepEqual(receiver.received.map((r) => r.id), written.map((e) => e.id), "in the order written");
    assert.equal(flusher.failures, 0);
    assert.ok(warnings.some((w) => w.includes("reachable again")), warnings.join("\n"));
  } finally {
    await flusher.stop();
    await authhooks.child.kill();
    await moto.child.kill();
    await receiver.close();
  }
});
