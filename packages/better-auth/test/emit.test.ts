//! What the plugin emits, delivered through a real authhooks to a verifying receiver: the
//! catalogue, in order per user, from Better Auth's own endpoints and plugins.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Receiver, startAuthhooks, type Authhooks, type Received } from "@authhooks/testkit";
import { databaseFile, eventually, makeAuth, outboxRows, signUp, type Made } from "./setup.js";

describe("events from Better Auth", () => {
  let authhooks: Authhooks;
  let receiver: Receiver;
  let made: Made;

  before(async () => {
    authhooks = await startAuthhooks();
    receiver = await new Receiver().listen();
    receiver.trust((await authhooks.admin.createEndpoint({ url: receiver.url, event_types: ["*"] })).secret);
    made = await makeAuth(databaseFile(), {
      url: authhooks.ingestUrl,
      secret: authhooks.ingestSecret,
      // An endpoint of another plugin, mapped to an event by what it answered.
      routes: {
        "/organization/invite-member": (returned) => {
          const invitation = returned as { id: string; organizationId: string; email: string; role: string };
          return {
            type: "organization.member_invited",
            subject: invitation.organizationId,
            data: { invitation: { id: invitation.id, email: invitation.email, role: invitation.role } },
          };
        },
        "/organization/check-slug": () => {
          throw new Error("a broken mapping");
        },
      },
    });
  });
  after(async () => {
    await made.hooks.stop();
    await authhooks.child.kill();
    await receiver.close();
  });

  const about = (subject: string): Received[] =>
    receiver.received.filter((r) => r.event.subject === subject).sort((a, b) => a.event.sequence! - b.event.sequence!);

  test("a user's life reaches the receiver as the catalogue's events, in the order they happened", async () => {
    const { user, headers } = await signUp(made.auth, "ada@example.com");
    await made.auth.api.updateUser({ body: { name: "Ada L." }, headers });
    await made.auth.api.updateUser({ body: { name: "Ada Lovelace" }, headers });
    await made.auth.api.revokeSessions({ headers });
    await made.context.internalAdapter.deleteUser(user.id);

    const expected = ["user.created", "account.linked", "session.created", "user.updated", "user.updated", "session.revoked", "account.unlinked", "user.deleted"];
    await eventually(() => about(user.id).length >= expected.length, "the user's events");
    const got = about(user.id);
    assert.deepEqual(got.map((r) => r.event.type), expected);
    assert.deepEqual(got.map((r) => r.event.origin), expected.map(() => "better-auth"));
    assert.deepEqual((got[4]!.event.data["user"] as { name: string }).name, "Ada Lovelace", "the last rename is the last event");
    const created = got[0]!.event.data["user"] as Record<string, unknown>;
    assert.equal(created["email"], "ada@example.com");
    assert.equal(created["id"], user.id);
    // Nothing secret leaves Better Auth: no password hash, no session token.
    for (const r of got) assert.doesNotMatch(r.body, /password|"token"|correct horse/i, r.body);
    assert.deepEqual(await outboxRows(made), [], "every event left the outbox");
  });

  test("admin bans and unbans are user.banned and user.unbanned", async () => {
    const boss = await signUp(made.auth, "boss@example.com", "Boss");
    await made.context.internalAdapter.updateUser(boss.user.id, { role: "admin" });
    const { user } = await signUp(made.auth, "mallory@example.com", "Mallory");
    await made.auth.api.banUser({ body: { userId: user.id, banReason: "spam" }, headers: boss.headers });
    await made.auth.api.unbanUser({ body: { userId: user.id }, headers: boss.headers });

    await eventually(() => about(user.id).some((r) => r.event.type === "user.unbanned"), "the unban");
    const types = about(user.id).map((r) => r.event.type).filter((t) => t.startsWith("user."));
    assert.deepEqual(types, ["user.created", "user.banned", "user.unbanned"]);
    const banned = about(user.id).find((r) => r.event.type === "user.banned")!;
    assert.equal((banned.event.data["user"] as { banned: boolean }).banned, true);
  });

  test("the organization plugin's changes are organization events", async () => {
    const { headers } = await signUp(made.auth, "founder@example.com", "Founder");
    const org = await made.auth.api.createOrganization({ body: { name: "Acme", slug: "acme" }, headers });
    assert.ok(org);
    await made.auth.api.updateOrganization({ body: { organizationId: org.id, data: { name: "Acme Inc" } }, headers });
    const invitation = await made.auth.api.createInvitation({ body: { organizationId: org.id, email: "new.hire@example.com", role: "member" }, headers });
    const hire = await signUp(made.auth, "new.hire@example.com", "New Hire");
    await made.auth.api.acceptInvitation({ body: { invitationId: invitation.id }, headers: hire.headers });
    await made.auth.api.leaveOrganization({ body: { organizationId: org.id }, headers: hire.headers });
    const second = await made.auth.api.createInvitation({ body: { organizationId: org.id, email: "temp@example.com", role: "member" }, headers });
    const temp = await signUp(made.auth, "temp@example.com", "Temp");
    await made.auth.api.acceptInvitation({ body: { invitationId: second.id }, headers: temp.headers });
    await made.auth.api.removeMember({ body: { memberIdOrEmail: "temp@example.com", organizationId: org.id }, headers });
    await made.auth.api.deleteOrganization({ body: { organizationId: org.id }, headers });

    const expected = [
      "organization.created",
      "organization.updated",
      "organization.member_invited",
      "organization.member_added",
      "organization.member_removed",
      "organization.member_invited",
      "organization.member_added",
      "organization.member_removed",
      "organization.deleted",
    ];
    await eventually(() => about(org.id).length >= expected.length, "the organization's events");
    const got = about(org.id);
    assert.deepEqual(got.map((r) => r.event.type), expected);
    assert.equal((got[2]!.event.data["invitation"] as { email: string }).email, "new.hire@example.com", "a route added with the routes option");
    const members = got.filter((r) => r.event.type.startsWith("organization.member_a") || r.event.type.startsWith("organization.member_r"));
    assert.deepEqual(
      members.map((r) => (r.event.data["member"] as { user_id: string }).user_id),
      [hire.user.id, hire.user.id, temp.user.id, temp.user.id],
      "who joined by invitation and left, or was removed by an admin",
    );
    assert.equal((got[0]!.event.data["organization"] as { slug: string }).slug, "acme");
    assert.equal((got[1]!.event.data["organization"] as { name: string }).name, "Acme Inc");
  });

  test("a route mapping that throws is logged and does not fail the request", async () => {
    const { headers } = await signUp(made.auth, "slugs@example.com", "Slugs");
    const answer = await made.auth.api.checkOrganizationSlug({ body: { slug: "free-slug" }, headers });
    assert.deepEqual(answer, { status: true });
  });

  test("reconcile() emits every user's current state, for the initial sync", async () => {
    const before = receiver.received.length;
    const report = await made.hooks.reconcile({ pageSize: 2, perSecond: 1_000 });
    const users = await made.context.adapter.findMany<{ id: string; name: string }>({ model: "user" });

    assert.equal(report.users, users.length);
    await eventually(() => receiver.received.slice(before).filter((r) => r.event.type === "user.updated").length >= users.length, "one event per user");
    // Only reconcile updates users here: the other tests' late sign-up events are left out.
    const sent = receiver.received.slice(before).filter((r) => r.event.type === "user.updated");
    assert.deepEqual(new Set(sent.map((r) => r.event.subject)), new Set(users.map((u) => u.id)));
    for (const u of users) {
      const event = sent.find((r) => r.event.subject === u.id)!.event;
      assert.equal(event.type, "user.updated");
      assert.equal((event.data["user"] as { name: string }).name, u.name);
    }
  });
});
