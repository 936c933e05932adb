//! Both directions end to end: the example's auth app (Better Auth + @authhooks/better-auth)
//! and CMS app (Payload + @authhooks/payload) as real processes, a real authhooks on moto
//! between them, through a receiver outage, an authhooks outage, restarts with full
//! outboxes and conflicting edits. Then both stores must be equal: nothing lost, no stale
//! change winning, no echo, nothing applied twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort, newSecret, Receiver, startAuthhooks, startMoto, type Authhooks, type Child } from "@authhooks/testkit";
import { appsEnv, AuthClient, CmsClient, startAuthApp, startCmsApp, type Person } from "./apps.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("an auth server and a CMS end in the same state through outages, restarts and conflicts", { timeout: 240_000 }, async () => {
  const moto = await startMoto();
  let authhooks: Authhooks = await startAuthhooks({ awsEndpoint: moto.url });
  const [authPort, cmsPort] = [await freePort(), await freePort()];
  const cmsSecret = newSecret();
  const authSecret = newSecret();
  const apps = appsEnv(authPort, cmsPort, {
    AUTHHOOKS_INGEST_URL: authhooks.ingestUrl,
    AUTHHOOKS_INGEST_SECRET: authhooks.ingestSecret,
    // One variable name, each app its own endpoint's secret (set per app below).
    AUTHHOOKS_ENDPOINT_SECRETS: "",
  });
  const authEnv = { ...apps, env: { ...apps.env, AUTHHOOKS_ENDPOINT_SECRETS: authSecret } };
  const cmsEnv = { ...apps, env: { ...apps.env, AUTHHOOKS_ENDPOINT_SECRETS: cmsSecret } };
  // Every identity event, as a third subscriber (a warehouse, say) sees them.
  const observer = await new Receiver().listen();
  let authApp: Child | undefined;
  let cmsApp: Child | undefined;
  try {
    await authhooks.admin.createEndpoint({ url: `http://127.0.0.1:${cmsPort}/api/authhooks`, event_types: ["user.*"], origin: "payload", secret: cmsSecret });
    await authhooks.admin.createEndpoint({ url: `http://127.0.0.1:${authPort}/api/auth/authhooks/deliveries`, event_types: ["user.*"], origin: "better-auth", secret: authSecret });
    observer.trust((await authhooks.admin.createEndpoint({ url: observer.url, event_types: ["user.*"] })).secret);
    [authApp, cmsApp] = await Promise.all([startAuthApp(authEnv), startCmsApp(cmsEnv)]);
    const auth = new AuthClient(authEnv);
    const cms = new CmsClient(cmsEnv);
    const deleted = new Set<string>();
    let authRenames = 0;
    let cmsEdits = 0;

    /** Both stores equal: every Better Auth user mirrored with the same email and name, every deleted one in the trash. */
    const converged = async (what: string) => {
      let last = "";
      const deadline = Date.now() + 60_000;
      for (;;) {
        const users = auth.users();
        const members = await cms.members();
        const live = members.filter((m) => !m.deletedAt).map((m) => ({ id: m.authId, email: m.email, name: m.name }));
        live.sort((a, b) => (a.id < b.id ? -1 : 1));
        const trashed = members.filter((m) => m.deletedAt).map((m) => m.authId).sort();
        last = JSON.stringify({ users, live, trashed, deleted: [...deleted].sort() });
        if (JSON.stringify(users) === JSON.stringify(live) && JSON.stringify(trashed) === JSON.stringify([...deleted].sort())) return;
        if (Date.now() > deadline) assert.fail(`${what}: the two stores did not converge: ${last}`);
        await pause(200);
      }
    };

    // 1. Sign-ups reach the CMS.
    const people: Person[] = [];
    for (let n = 0; n < 4; n++) people.push(await auth.signUp(`person${n}@example.com`, `Person ${n}`));
    await converged("sign-ups");

    // 2. Edits on each side, and one user renamed ten times in a row.
    await auth.rename(people[0]!, "Person 0 (auth edit)");
    authRenames++;
    await cms.rename(people[1]!.id, "Person 1 (cms edit)");
    cmsEdits++;
    for (let n = 1; n <= 10; n++) {
      await auth.rename(people[2]!, `Person 2, take ${n}`);
      authRenames++;
    }
    await converged("edits on both sides");
    assert.equal(auth.users().find((u) => u.id === people[2]!.id)!.name, "Person 2, take 10");

    // 3. The CMS is down for a while (killed), and comes back.
    await cmsApp.kill();
    people.push(await auth.signUp("person4@example.com", "Person 4"));
    await auth.rename(people[3]!, "Person 3 (while the CMS was down)");
    await auth.rename(people[0]!, "Person 0 (second auth edit)");
    authRenames += 2;
    await pause(3_000);
    cmsApp = await startCmsApp(cmsEnv);
    await converged("after the CMS outage");

    // 4. authhooks is down: both apps keep working, their outboxes fill; the auth app is
    //    killed with a full outbox and restarted; conflicting edits meet; authhooks returns.
    await authhooks.child.kill();
    await pause(1_500); // a killed consumer's last long poll may still take messages in moto
    people.push(await auth.signUp("person5@example.com", "Person 5"));
    people.push(await auth.signUp("person6@example.com", "Person 6"));
    await auth.rename(people[4]!, "Person 4 (while authhooks was down)");
    await auth.rename(people[1]!, "Person 1 (auth, earlier)");
    authRenames += 2;
    await pause(20);
    await cms.rename(people[1]!.id, "Person 1 (cms, later: wins)");
    cmsEdits++;
    await authApp.kill();
    authApp = await startAuthApp(authEnv);
    authhooks = await startAuthhooks(authhooks.options);
    await converged("after the authhooks outage and the restart");
    assert.equal(auth.users().find((u) => u.id === people[1]!.id)!.name, "Person 1 (cms, later: wins)", "the later edit wins on both sides");

    // 5. Deletes on each side.
    await auth.deleteAccount(people[5]!);
    deleted.add(people[5]!.id);
    await cms.trash(people[6]!.id);
    deleted.add(people[6]!.id);
    cmsEdits++;
    await converged("after deletes");
    assert.equal(auth.users().some((u) => u.id === people[6]!.id), false, "trashed in the CMS, deleted in Better Auth");

    // No echo: the third subscriber saw exactly the edits people made, from where they made them.
    await pause(1_500);
    const seen = observer.received.map((r) => r.event);
    const fromCms = seen.filter((e) => e.origin === "payload");
    const authUpdates = seen.filter((e) => e.origin === "better-auth" && e.type === "user.updated");
    assert.equal(fromCms.length, cmsEdits, `CMS events: ${fromCms.map((e) => e.type).join(", ")}`);
    assert.equal(authUpdates.length, authRenames, "Better Auth emitted no update for a change it received");
    assert.equal(seen.filter((e) => e.type === "user.created").length, people.length);
    assert.equal(new Set(observer.received.map((r) => r.id)).size, observer.received.length, "no event delivered twice");

    // Nothing applied twice: one receipt per event the CMS received.
    const receipts = cms.receipts();
    const toCms = seen.filter((e) => e.origin === "better-auth");
    assert.equal(receipts.length, toCms.length, "each Better Auth event reached the CMS and was recorded once");
    assert.equal(new Set(receipts.map((r) => r.eventId)).size, receipts.length);
  } finally {
    await Promise.all([authApp?.kill(), cmsApp?.kill(), authhooks.child.kill(), moto.child.kill(), observer.close()]);
  }
});
