//! The tenant portal in a real browser (issue #16): a link for tenant acme, made on the
//! console's Endpoints page, opens a page that shows acme's endpoints, deliveries and
//! failures and nothing of globex's, and no request the page's own script can make — other
//! ids in the URL, another tenant in the body, the admin API — reads or replays globex's
//! data. The token leaves the address bar once read.
//! AUTHHOOKS_SCREENSHOTS=<dir> saves a screenshot of the portal there.
import { strict as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Receiver, startAuthhooks, until, type Authhooks, type CreatedEndpoint } from "@authhooks/testkit";
import type { Browser, Page } from "playwright-core";

import { launch } from "./browser.js";

let authhooks: Authhooks;
let acmeReceiver: Receiver;
let globexReceiver: Receiver;
let browser: Browser;

const NO_RETRY = { retry: { initial_delay_ms: 100, backoff_multiplier: 1, max_delay_ms: 100, max_retries: 0 } };

before(async () => {
  authhooks = await startAuthhooks();
  acmeReceiver = await new Receiver().listen();
  globexReceiver = await new Receiver().listen();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await acmeReceiver?.close();
  await globexReceiver?.close();
  authhooks?.child.process.kill("SIGTERM");
});

/** A request from the portal page's own script, with its token, as an edited request would be. */
function fromPage(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers: Record<string, string> = { authorization: `Bearer ${sessionStorage.getItem("authhooks-portal")}` };
      const init: RequestInit = { method, headers };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        headers["content-type"] = "application/json";
      }
      const response = await fetch(path, init);
      return { status: response.status, body: await response.text() };
    },
    { method, path, body },
  );
}

test("a tenant's portal shows its own data and cannot reach another tenant's", async () => {
  const admin = authhooks.admin;
  const acme = await admin.json<CreatedEndpoint>("POST", "/v1/endpoints", {
    url: acmeReceiver.url, event_types: ["*"], ordering: "none", tenant_id: "acme", ...NO_RETRY,
  });
  acmeReceiver.trust(acme.secret);
  const globex = await admin.json<CreatedEndpoint>("POST", "/v1/endpoints", {
    url: globexReceiver.url, event_types: ["*"], ordering: "none", tenant_id: "globex", ...NO_RETRY,
  });
  globexReceiver.down = true;
  await admin.json("POST", `/v1/endpoints/${acme.id}/test`);
  await admin.json("POST", `/v1/endpoints/${globex.id}/test`);
  await until(() => acmeReceiver.received.length === 1, "acme's test was not delivered");
  await until(async () => (await admin.failures()).length === 1, "globex's test was not given up on");
  const [globexFailure] = (await admin.failures()) as { id: string }[];
  await until(
    async () => (await admin.json<{ items: unknown[] }>("GET", "/v1/deliveries")).items.length === 2,
    "the attempts were not logged",
  );

  // The operator makes the link on the console's Endpoints page.
  const console_ = await browser.newPage();
  await console_.goto(`${authhooks.url}/console/`);
  await console_.getByLabel("Admin token").fill(authhooks.adminToken);
  await console_.getByLabel("Admin token").press("Enter");
  await console_.getByRole("button", { name: "Endpoints", exact: true }).click();
  await console_.getByLabel("Tenant id").fill("acme");
  await console_.getByLabel("Valid for (minutes)").fill("10");
  await console_.getByRole("button", { name: "Create link" }).click();
  await console_.locator("#portal-link").waitFor({ state: "visible" });
  const link = (await console_.locator("#portal-url").textContent()) ?? "";
  assert.match(link, /\/portal\/#ahp_/);
  await console_.close();

  const page = await browser.newPage();
  await page.goto(link);
  await page.getByRole("heading", { name: "Webhooks for acme" }).waitFor();
  assert.equal(new URL(page.url()).hash, "", "the token stayed in the address bar");

  // Acme's endpoint, delivery and no failure; nothing of globex's anywhere on the page,
  // once all three lists are drawn.
  await page.locator("body[data-loaded=true]").waitFor();
  await page.locator("#endpoint-rows tr").filter({ hasText: acmeReceiver.url }).waitFor();
  await page.locator("#delivery-rows tr").filter({ hasText: acme.id }).getByText(/^delivered/).waitFor();
  assert.equal(await page.locator("#failure-rows tr").count(), 0);
  const text = (await page.locator("body").textContent()) ?? "";
  for (const secretOfGlobex of [globex.id, globexReceiver.url, globexFailure!.id]) {
    assert.ok(!text.includes(secretOfGlobex), `the page shows ${secretOfGlobex}`);
  }

  // Edited requests from the page: globex's endpoint, failure and deliveries stay out of reach.
  for (const [method, path] of [
    ["GET", `/v1/portal/endpoints/${globex.id}`],
    ["PATCH", `/v1/portal/endpoints/${globex.id}`],
    ["DELETE", `/v1/portal/endpoints/${globex.id}`],
    ["POST", `/v1/portal/endpoints/${globex.id}/test`],
    ["POST", `/v1/portal/failures/${globexFailure!.id}/replay`],
  ] as const) {
    const answer = await fromPage(page, method, path, method === "PATCH" ? { enabled: false } : undefined);
    assert.equal(answer.status, 404, `${method} ${path}: ${answer.body}`);
  }
  const log = await fromPage(page, "GET", `/v1/portal/deliveries?endpoint_id=${globex.id}`);
  assert.deepEqual(JSON.parse(log.body).items, []);
  const moved = await fromPage(page, "POST", "/v1/portal/endpoints", { url: acmeReceiver.url, event_types: ["*"], tenant_id: "globex" });
  assert.equal(moved.status, 422, moved.body);
  assert.equal((await fromPage(page, "GET", "/v1/endpoints")).status, 401, "the portal token opened the admin API");
  assert.equal((await fromPage(page, "GET", "/v1/failures")).status, 401);
  assert.equal(globexReceiver.received.length, 0);
  const stored = await admin.json<{ enabled: boolean }>("GET", `/v1/endpoints/${globex.id}`);
  assert.equal(stored.enabled, true, "globex's endpoint was changed");

  // An endpoint created from the portal belongs to acme, with the signing scheme and the
  // batching the tenant's receiver wants, and shows the key a v1a receiver verifies with.
  await page.getByLabel("URL").fill(`${acmeReceiver.url}/second`);
  await page.getByLabel("Signing").selectOption("standard-webhooks-v1a");
  await page.getByLabel(/^Events per POST/).fill("20");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.locator("#secret").waitFor({ state: "visible" });
  const created = (await page.locator("#secret-for").textContent()) ?? "";
  type Second = {
    tenant_id: string;
    signing: { scheme: string };
    batch: { max_events: number; max_wait_ms: number } | null;
    public_keys?: { key: string }[];
  };
  const second = await admin.json<Second>("GET", `/v1/endpoints/${created}`);
  assert.equal(second.tenant_id, "acme");
  assert.equal(second.signing.scheme, "standard-webhooks-v1a");
  assert.deepEqual(second.batch, { max_events: 20, max_wait_ms: 1000 });
  const key = second.public_keys?.[0]?.key ?? "";
  assert.match(key, /^whpk_/);
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByText(`public key ${key}`).waitFor();

  const dir = process.env["AUTHHOOKS_SCREENSHOTS"];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, "portal.png"), fullPage: true });
  }
  await page.close();
});
