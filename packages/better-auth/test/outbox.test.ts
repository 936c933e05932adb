//! The outbox in Better Auth's database: an authhooks that hangs or is down never holds up
//! a sign-up, and what was written survives a restart of the process, then drains in order.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import Database from "better-sqlite3";
import { Receiver, startAuthhooks } from "@authhooks/testkit";
import { databaseFile, eventually, makeAuth, outboxRows, signUp } from "./setup.js";

/** An "ingest" that accepts connections and never answers: the worst authhooks outage. */
async function hangingIngest() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1/events`,
    connections: () => sockets.length,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test("sign-ups never wait on authhooks, and a restarted process sends what the last one could not", async () => {
  const file = databaseFile();
  const hanging = await hangingIngest();
  const ingestSecret = "whsec_" + Buffer.alloc(32, 3).toString("base64");
  const first = await makeAuth(file, { url: hanging.url, secret: ingestSecret });
  const users = [];
  try {
    for (let n = 0; n < 5; n++) {
      // Were the plugin to call authhooks inside the request, this would hang with it.
      const { user, headers } = await signUp(first.auth, `user${n}@example.com`, `User ${n}`);
      await first.auth.api.updateUser({ body: { name: `User ${n} renamed` }, headers });
      users.push(user);
    }
    await eventually(() => hanging.connections() > 0, "the flusher tried authhooks");
    const waiting = await outboxRows(first);
    assert.equal(waiting.length, 5 * 4, "created, linked, session, updated for each user, all waiting");
    assert.ok(waiting.every((r) => r.status === "pending"));
  } finally {
    // The process ends here with a full outbox; its flusher's request is still hanging.
    await Promise.race([first.hooks.stop(), new Promise((r) => setTimeout(r, 100))]);
    hanging.close();
  }

  const authhooks = await startAuthhooks({ ingestSecret });
  const receiver = await new Receiver().listen();
  receiver.trust((await authhooks.admin.createEndpoint({ url: receiver.url, event_types: ["user.*"] })).secret);
  // The restarted process: a new Better Auth on the same database, now pointed at authhooks.
  const second = await makeAuth(file, { url: authhooks.ingestUrl, secret: ingestSecret });
  try {
    await eventually(async () => (await outboxRows(second)).length === 0, "the outbox drains");
    await eventually(() => receiver.received.length === 10, "10 user events");
    for (const [n, user] of users.entries()) {
      const mine = receiver.received.filter((r) => r.event.subject === user.id).sort((a, b) => a.event.sequence! - b.event.sequence!);
      assert.deepEqual(mine.map((r) => r.event.type), ["user.created", "user.updated"]);
      assert.equal((mine[1]!.event.data["user"] as { name: string }).name, `User ${n} renamed`);
    }
    assert.equal(new Set(receiver.received.map((r) => r.id)).size, 10, "each event once");
  } finally {
    await second.hooks.stop();
    await authhooks.child.kill();
    await receiver.close();
  }
});

test("an outbox write that fails is logged and the sign-up still succeeds", async () => {
  const file = databaseFile();
  const errors: string[] = [];
  const made = await makeAuth(file, {
    url: "http://127.0.0.1:9/v1/events",
    secret: "whsec_" + Buffer.alloc(32, 4).toString("base64"),
    logger: { warn: () => {}, error: (m) => errors.push(m) },
    flush: { autoStart: false },
  });
  // Every write to the outbox fails (a full disk, say): the auth server keeps working.
  const raw = new Database(file);
  raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON "authhooksOutbox" BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  raw.close();

  const { user } = await signUp(made.auth, "still@example.com", "Still");

  assert.equal(user.email, "still@example.com");
  assert.ok(errors.some((e) => e.includes("could not write user.created")), errors.join("\n"));
});
