//! Changes made in another system, delivered by a real authhooks to the plugin's receiver:
//! applied once, never when stale, never echoed back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { IngestClient, newEvent } from "@authhooks/sync";
import { newSecret, Receiver, serveFetch, startAuthhooks, type Authhooks, type Served } from "@authhooks/testkit";
import { Webhook } from "standardwebhooks";
import { databaseFile, eventually, makeAuth, outboxRows, signUp, type Made } from "./setup.js";

describe("the receiver", () => {
  let authhooks: Authhooks;
  let observer: Receiver;
  let made: Made;
  let served: Served;
  let endpointId: string;
  const endpointSecret = newSecret();
  let cms: IngestClient;

  before(async () => {
    authhooks = await startAuthhooks();
    observer = await new Receiver().listen();
    observer.trust((await authhooks.admin.createEndpoint({ url: observer.url, event_types: ["*"] })).secret);
    made = await makeAuth(databaseFile(), {
      url: authhooks.ingestUrl,
      secret: authhooks.ingestSecret,
      receive: { secrets: endpointSecret },
    });
    served = await serveFetch((request) => made.auth.handler(request));
    const endpoint = await authhooks.admin.createEndpoint({
      url: `${served.url}/api/auth/authhooks/deliveries`,
      event_types: ["user.*"],
      origin: "better-auth",
      secret: endpointSecret,
    });
    endpointId = endpoint.id;
    // The other system (a CMS) posting its own changes to authhooks.
    cms = new IngestClient({ url: authhooks.ingestUrl, secret: authhooks.ingestSecret });
  });
  after(async () => {
    await made.hooks.stop();
    await authhooks.child.kill();
    await observer.close();
    await served.close();
  });

  const fromCms = (type: string, subject: string, user: Record<string, unknown>, at = new Date()) =>
    newEvent({ type, subject, origin: "payload", at, data: { user: { id: subject, ...user } } });

  /** Waits until authhooks has delivered `eventId` to Better Auth. Until a worker has taken
   * one of its deliveries up, the event has no attempts to show and the admin API answers
   * 404: not yet, rather than never. */
  const deliveredToAuth = (eventId: string) =>
    eventually(async () => {
      const response = await authhooks.admin.raw("GET", `/v1/events/${eventId}/attempts`);
      if (response.status === 404) return false;
      assert.equal(response.status, 200, await response.clone().text());
      const attempts = (await response.json()) as { items: { endpoint_id: string; status: number | null }[] };
      return attempts.items.some((a) => a.endpoint_id === endpointId && a.status === 200);
    }, `delivery of ${eventId} to Better Auth`);

  const nameOf = async (id: string) => (await made.context.internalAdapter.findUserById(id))?.name;

  test("a rename made in the CMS is applied, and not sent back out as Better Auth's own change", async () => {
    const { user } = await signUp(made.auth, "grace@example.com", "Grace");
    await eventually(async () => (await outboxRows(made)).length === 0, "sign-up events sent");
    const rename = fromCms("user.updated", user.id, { name: "Grace Hopper", email: "grace@example.com" });

    assert.deepEqual(await cms.send([rename]), { kind: "accepted" });
    await deliveredToAuth(rename.id);

    assert.equal(await nameOf(user.id), "Grace Hopper");
    await new Promise((r) => setTimeout(r, 1_000)); // room for an echo, were there one
    const echoes = observer.received.filter((r) => r.event.subject === user.id && r.event.type === "user.updated" && r.event.origin === "better-auth");
    assert.deepEqual(echoes, [], "the applied change is not emitted again");
    assert.deepEqual(await outboxRows(made), []);
  });

  test("a change older than Better Auth's own latest change loses", async () => {
    const { user, headers } = await signUp(made.auth, "alan@example.com", "Alan");
    const editedEarlier = new Date(Date.now() - 60_000);
    await made.auth.api.updateUser({ body: { name: "Alan Turing" }, headers });
    const late = fromCms("user.updated", user.id, { name: "Al" }, editedEarlier);

    await cms.send([late]);
    await deliveredToAuth(late.id);

    assert.equal(await nameOf(user.id), "Alan Turing", "the older CMS edit did not overwrite the newer local one");
  });

  test("a redelivered change is applied once; from one source, a lower sequence is stale", async () => {
    const { user } = await signUp(made.auth, "edsger@example.com", "Edsger");
    const signer = new Webhook(endpointSecret);
    const post = async (body: Record<string, unknown>) => {
      const raw = JSON.stringify(body);
      const at = new Date();
      const response = await fetch(`${served.url}/api/auth/authhooks/deliveries`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": String(body["id"]),
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
          "webhook-signature": signer.sign(String(body["id"]), at, raw),
        },
        body: raw,
      });
      return { status: response.status, body: (await response.json()) as { outcome?: string } };
    };
    const first = { ...fromCms("user.updated", user.id, { name: "E. W. Dijkstra" }), sequence: 2_000 };
    const older = { ...fromCms("user.updated", user.id, { name: "Edsger D." }), sequence: 1_000 };

    assert.deepEqual(await post(first), { status: 200, body: { outcome: "applied" } });
    assert.deepEqual(await post(first), { status: 200, body: { outcome: "duplicate" } });
    assert.deepEqual(await post(older), { status: 200, body: { outcome: "stale" } });
    assert.equal(await nameOf(user.id), "E. W. Dijkstra");
  });

  test("a delivery whose signature does not verify is refused and changes nothing", async () => {
    const { user } = await signUp(made.auth, "barbara@example.com", "Barbara");
    const body = JSON.stringify(fromCms("user.updated", user.id, { name: "Mallory" }));
    const at = new Date();
    const forged = new Webhook(newSecret()).sign("evt_forged", at, body);
    const response = await fetch(`${served.url}/api/auth/authhooks/deliveries`, {
      method: "POST",
      headers: { "content-type": "application/json", "webhook-id": "evt_forged", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": forged },
      body,
    });
    assert.equal(response.status, 401);
    assert.equal(await nameOf(user.id), "Barbara");
  });

  test("a user deleted in the CMS is deleted here, without an echo", async () => {
    const { user } = await signUp(made.auth, "ken@example.com", "Ken");
    await eventually(async () => (await outboxRows(made)).length === 0, "sign-up events sent");
    const deletion = newEvent({ type: "user.deleted", subject: user.id, origin: "payload", data: { user: { id: user.id } } });

    await cms.send([deletion]);
    await deliveredToAuth(deletion.id);

    assert.equal(await made.context.internalAdapter.findUserById(user.id), null);
    await new Promise((r) => setTimeout(r, 1_000));
    const echoes = observer.received.filter((r) => r.event.subject === user.id && r.event.origin === "better-auth" && r.event.type !== "user.created" && r.event.type !== "account.linked" && r.event.type !== "session.created");
    assert.deepEqual(echoes.map((r) => r.event.type), [], "no user.deleted, session.revoked or account.unlinked echoes");
  });
});
