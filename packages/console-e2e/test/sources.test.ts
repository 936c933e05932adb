//! The console's Sources page in a real browser (issue #19): create a source from the form
//! (an HMAC of the body in a header of the sender's), see another system's request go
//! through it to a subscribed endpoint as the event its script makes, find a request the
//! script failed on with its body, and try a changed script on a sample body — nothing
//! ingested by the try.
import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";

import { Receiver, startAuthhooks, until, type Authhooks } from "@authhooks/testkit";
import type { Browser } from "playwright-core";

import { launch, screenshot } from "./browser.js";

const SENDER_SECRET = "console-sender-secret-1";
const SCRIPT = `function handler(request) {
  const { collection, doc } = request.body;
  if (collection !== "users") throw new Error("not a user: " + collection);
  return { type: "user.updated", subject: doc.authId, data: { user: { id: doc.authId, name: doc.name } } };
}`;

let authhooks: Authhooks;
let receiver: Receiver;
let browser: Browser;

before(async () => {
  authhooks = await startAuthhooks();
  receiver = await new Receiver().listen();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await receiver?.close();
  authhooks?.child.process.kill("SIGTERM");
});

/** A request as the other system sends it: its body and an HMAC of it in its own header. */
async function post(path: string, body: unknown): Promise<{ status: number; answer: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  const signature = createHmac("sha256", SENDER_SECRET).update(text).digest("hex");
  const response = await fetch(`${authhooks.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-cms-signature": signature },
    body: text,
  });
  return { status: response.status, answer: (await response.json()) as Record<string, unknown> };
}

test("a source made on the page maps another system's webhook, shows its failures and tries a script", async () => {
  const endpoint = await authhooks.admin.createEndpoint({ url: receiver.url, event_types: ["user.*"], ordering: "none" });
  receiver.trust(endpoint.secret);

  const page = await browser.newPage();
  await page.goto(`${authhooks.url}/console/`);
  await page.getByLabel("Admin token").fill(authhooks.adminToken);
  await page.getByLabel("Admin token").press("Enter");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByRole("button", { name: "Sources", exact: true }).click();
  await page.getByRole("heading", { name: "Sources" }).waitFor();

  const form = page.locator("#source-form");
  await form.getByLabel("Name").fill("CMS users");
  await form.getByLabel("Verification").selectOption("hmac-sha256");
  await form.getByLabel("Sender's secret").fill(SENDER_SECRET);
  await form.getByLabel(/^Signature header/).fill("x-cms-signature");
  await form.getByLabel(/^Origin/).fill("cms");
  await form.getByLabel("Script").fill(SCRIPT);
  await page.getByRole("button", { name: "Create source" }).click();
  const row = page.getByRole("row").filter({ hasText: "CMS users" });
  await row.waitFor();
  assert.equal(await page.locator("#source-secret").isHidden(), true, "a given secret is not shown back");
  const path = ((await row.getByText(/^\/v1\/inbound\//).textContent()) ?? "").trim();
  assert.match(path, /^\/v1\/inbound\/src_/);

  // The other system's request, mapped and delivered.
  const sent = await post(path, { collection: "users", doc: { authId: "u_9", name: "Grace" } });
  assert.equal(sent.status, 202, JSON.stringify(sent.answer));
  await until(() => receiver.received.length === 1, "the mapped event was not delivered");
  const event = receiver.received[0]?.event;
  assert.equal(event?.type, "user.updated");
  assert.equal(event?.origin, "cms");
  assert.deepEqual(event?.data, { user: { id: "u_9", name: "Grace" } });

  // One the script fails on: answered 200, kept, and shown with its body.
  const failed = await post(path, { collection: "orders", doc: {} });
  assert.equal(failed.status, 200);
  await row.getByRole("button", { name: "Failures: CMS users" }).click();
  const item = page.locator("#source-failure-list li").first();
  await item.getByText(/not a user: orders/).waitFor();
  assert.match((await item.locator("pre").textContent()) ?? "", /"collection":"orders"/);

  // A changed script tried on a sample: the event it would make, nothing sent.
  await row.getByRole("button", { name: "Try: CMS users" }).click();
  const trial = page.locator("#try-form");
  await trial.getByLabel("Sample body").fill(JSON.stringify({ collection: "orders", doc: { authId: "u_1", name: "Ada" } }));
  await trial.getByLabel("Script").fill(SCRIPT.replace('collection !== "users"', 'collection === "nothing"'));
  await page.getByRole("button", { name: "Run script" }).click();
  await page.locator("#try-result pre").first().waitFor();
  const made = JSON.parse((await page.locator("#try-result pre").first().textContent()) ?? "{}") as Record<string, unknown>;
  assert.equal(made["type"], "user.updated");
  assert.equal(made["origin"], "cms");
  await screenshot(page, "sources");
  assert.equal(receiver.received.length, 1, "a try sends nothing");
});
