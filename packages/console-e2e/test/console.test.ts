//! The console in a real browser (issue #16): sign in with the admin token, create an
//! endpoint to a receiver (its secret shown once), edit it, send it a test event and see it
//! delivered; make the receiver fail, find the failure on the Failures page with its
//! attempts, fix the receiver and replay it from the page; see the endpoint's health and
//! recover it. The Deliveries page finds each attempt (the live view shows new ones without
//! a click) with its timeline, and the Overview counts them. The session cookie is out of the page's reach,
//! a change without the CSRF token is refused, and signing out ends the session.
//! AUTHHOOKS_SCREENSHOTS=<dir> saves a screenshot of each page there.
import { strict as assert } from "node:assert";
import { after, before, test } from "node:test";

import { Receiver, startAuthhooks, until, type Authhooks } from "@authhooks/testkit";
import type { Browser, Page } from "playwright-core";

import { launch, screenshot } from "./browser.js";

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

/** A request from the page's own script context, as an attacker's script there would make it. */
function fetchFromPage(page: Page, method: string, path: string, body?: unknown): Promise<number> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const init: RequestInit = { method, credentials: "same-origin" };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { "content-type": "application/json" };
      }
      return (await fetch(path, init)).status;
    },
    { method, path, body },
  );
}

test("from sign-in to a replayed failure, all from the page", async () => {
  const page = await browser.newPage();
  await page.goto(`${authhooks.url}/console/`);

  // Sign in, by keyboard.
  await page.getByLabel("Admin token").fill(authhooks.adminToken);
  await screenshot(page, "sign-in");
  await page.getByLabel("Admin token").press("Enter");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  assert.equal(await page.evaluate(() => document.cookie), "", "the session cookie is readable by script");
  await page.getByRole("button", { name: "Endpoints", exact: true }).click();
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();

  // Create an endpoint to the receiver; its secret is shown once.
  const create = page.locator("#create-form");
  await create.getByLabel("URL").fill(receiver.url);
  await create.getByLabel("Ordering").selectOption("none");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.locator("#secret").waitFor({ state: "visible" });
  const secret = (await page.locator("#secret-value").textContent()) ?? "";
  assert.match(secret, /^whsec_/);
  receiver.trust(secret);
  await page.getByRole("button", { name: "Done" }).click();
  assert.equal(await page.locator("#secret-value").textContent(), "", "the secret stays on the page");

  const row = page.getByRole("row").filter({ hasText: receiver.url });
  await row.waitFor();
  const endpointId = ((await row.locator("code").textContent()) ?? "").trim();
  assert.match(endpointId, /^ep_/);

  // Edited from the page.
  await row.getByRole("button", { name: `Edit: ${endpointId}` }).click();
  const edit = page.locator("#edit-form");
  await edit.getByLabel("Description").fill("the CMS");
  // Its retry schedule, rate limit and circuit too.
  await edit.getByLabel(/^Retry schedule/).fill("1, 2");
  await edit.getByLabel(/^Rate limit \(/).fill("20");
  await edit.getByLabel("Rate limit burst").fill("40");
  await edit.getByLabel(/failures in a row/).fill("4");
  await edit.getByLabel(/seconds open/).fill("30");
  await page.getByRole("button", { name: "Save" }).click();
  await row.getByText("the CMS").waitFor();
  const stored = await authhooks.admin.json<{
    description: string;
    retry: { schedule_secs: number[] };
    rate_limit: { requests_per_second: number; burst_size: number };
    circuit: { failure_threshold: number; open_timeout_secs: number };
  }>("GET", `/v1/endpoints/${endpointId}`);
  assert.equal(stored.description, "the CMS");
  assert.deepEqual(stored.retry, { schedule_secs: [1, 2] });
  assert.deepEqual(stored.rate_limit, { requests_per_second: 20, burst_size: 40 });
  assert.equal(stored.circuit.failure_threshold, 4);
  assert.equal(stored.circuit.open_timeout_secs, 30);

  // A test event, delivered and verified by the receiver's own library.
  await row.getByRole("button", { name: `Send test: ${endpointId}` }).click();
  await until(() => receiver.received.length === 1, "the test event was not delivered");
  assert.equal(receiver.received[0]?.event.type, "authhooks.test");

  // The delivery log shows the attempt, delivered (logged once the worker's batch is done).
  const attemptsLogged = async (): Promise<number> =>
    (await authhooks.admin.json<{ items: unknown[] }>("GET", "/v1/deliveries")).items.length;
  await until(async () => (await attemptsLogged()) === 1, "the attempt was not logged");
  await page.getByRole("button", { name: "Deliveries", exact: true }).click();
  const logged = page.locator("#delivery-rows tr").filter({ hasText: endpointId });
  await logged.first().getByText(/^delivered · HTTP 2\d\d/).waitFor();
  await page.getByRole("button", { name: "Endpoints", exact: true }).click();

  // The receiver fails, with no retries left: the delivery is given up on and listed.
  receiver.down = true;
  await authhooks.admin.json("PATCH", `/v1/endpoints/${endpointId}`, {
    retry: { initial_delay_ms: 100, backoff_multiplier: 1, max_delay_ms: 100, max_retries: 0 },
  });
  await row.getByRole("button", { name: `Send test: ${endpointId}` }).click();
  await until(async () => (await authhooks.admin.failures()).length === 1, "no failure was recorded");
  await page.getByRole("button", { name: "Failures" }).click();
  const failure = page.getByRole("row").filter({ hasText: endpointId });
  await failure.waitFor();
  assert.match((await failure.textContent()) ?? "", /503/);
  // Its attempts, as a timeline.
  await failure.getByRole("button", { name: /^Attempts/ }).click();
  const attempts = page.locator("#attempt-list li");
  await attempts.last().getByText(/HTTP 503/).waitFor();
  await screenshot(page, "failures");

  // The same attempt in the delivery log, found by its status, with its timeline.
  await page.getByRole("button", { name: "Deliveries", exact: true }).click();
  await page.getByLabel("Status").selectOption("failed");
  await page.getByRole("button", { name: "Search" }).click();
  const givenUp = page.locator("#delivery-rows tr");
  // The unfiltered page drawn on opening may still be there (its newest row is this one
  // too): the filtered one has this attempt alone.
  await until(async () => (await givenUp.count()) === 1, "the filter did not leave the attempt given up on alone");
  await givenUp.first().getByText(/^given up · HTTP 503/).waitFor();
  await givenUp.first().getByRole("button", { name: /^Attempts/ }).click();
  await page.locator("#timeline-list li").last().getByText(/given up · HTTP 503/).waitFor();
  await screenshot(page, "deliveries");
  await page.getByRole("button", { name: "Failures", exact: true }).click();

  // Fixed, then replayed from the page.
  receiver.down = false;
  await failure.getByRole("button", { name: /^Replay/ }).click();
  await until(() => receiver.received.length === 2, "the replay was not delivered");
  assert.equal(receiver.received[1]?.event.type, "authhooks.test");

  // The live view: a new delivery appears without a click.
  await page.getByRole("button", { name: "Deliveries", exact: true }).click();
  await page.getByLabel("Status").selectOption("");
  await page.getByRole("button", { name: "Search" }).click();
  const rows = page.locator("#delivery-rows tr");
  // Every attempt so far, once the unfiltered search is drawn; then only the live view adds.
  const before = (await authhooks.admin.json<{ items: unknown[] }>("GET", "/v1/deliveries")).items.length;
  await until(async () => (await rows.count()) === before, "the unfiltered search was not drawn");
  await page.getByRole("checkbox", { name: /Live/ }).check();
  await authhooks.admin.json("POST", `/v1/endpoints/${endpointId}/test`);
  await until(async () => (await rows.count()) > before, "the live view did not show the new delivery");
  await page.getByRole("checkbox", { name: /Live/ }).uncheck();

  // The overview counts the attempts: three delivered, one given up.
  await page.getByRole("button", { name: "Overview", exact: true }).click();
  const hour = page.getByRole("row").filter({ hasText: "Last hour" });
  // The overview drawn at sign-in (all zeros) stays until the new one replaces it.
  const counts = async () => (await hour.locator("td").allTextContents()).slice(0, 4).join(" ");
  await until(async () => (await counts()) === "4 3 0 1", "attempts, delivered, retrying, given up");
  await page.getByRole("row").filter({ hasText: endpointId }).getByText(/^circuit /).waitFor();
  await screenshot(page, "overview");

  // The endpoint's health shows the delivery given up on; a recover is noted there.
  await page.getByRole("button", { name: "Endpoints", exact: true }).click();
  await row.getByText(/^last given up: /).waitFor();
  await row.getByRole("button", { name: `Recover: ${endpointId}` }).click();
  await row.getByText(/^recovered /).waitFor();
  await screenshot(page, "endpoints");

  // A change without the session's CSRF token is refused and changes nothing.
  const forged = await fetchFromPage(page, "POST", "/v1/endpoints", { url: receiver.url, event_types: ["*"] });
  assert.equal(forged, 403);
  const endpoints = await authhooks.admin.json<{ items: unknown[] }>("GET", "/v1/endpoints");
  assert.equal(endpoints.items.length, 1);

  // Signing out ends the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Admin token").waitFor();
  assert.equal(await fetchFromPage(page, "GET", "/v1/endpoints"), 401);
  await page.close();
});

const PHONE = { width: 375, height: 740 };

test("on a phone every control is labelled and nothing scrolls sideways", async () => {
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto(`${authhooks.url}/console/`);
  await page.getByLabel("Admin token").fill(authhooks.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  for (const view of ["Overview", "Endpoints", "Deliveries", "Failures"]) {
    await page.getByRole("button", { name: view, exact: true }).click();
    await page.getByRole("heading", { name: view }).waitFor();
    const unlabelled = await page.$$eval("input, select", (controls) =>
      controls
        .filter((c) => !(c as HTMLInputElement).labels?.length && c.getAttribute("type") !== "hidden")
        .map((c) => c.id || c.outerHTML),
    );
    assert.deepEqual(unlabelled, [], `${view}: controls without a label`);
    // Against the screen's width: a mobile browser widens its layout viewport to fit wider content.
    const content = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(content <= PHONE.width, `${view}: ${content}px wide on a ${PHONE.width}px screen`);
    await screenshot(page, `phone-${view.toLowerCase()}`);
  }
  await phone.close();
});

test("an endpoint's signing scheme is chosen on the page, and a v1a endpoint shows its public key", async () => {
  const page = await browser.newPage();
  await page.goto(`${authhooks.url}/console/`);
  await page.getByLabel("Admin token").fill(authhooks.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Endpoints", exact: true }).click();
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();

  const url = `${receiver.url}signed`;
  const create = page.locator("#create-form");
  await create.getByLabel("URL").fill(url);
  await create.getByLabel("Signing").selectOption("standard-webhooks-v1a");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.locator("#secret").waitFor({ state: "visible" });
  await page.getByRole("button", { name: "Done" }).click();

  const row = page.getByRole("row").filter({ hasText: url });
  await row.getByText("signing standard-webhooks-v1a").waitFor();
  const endpointId = ((await row.locator("code").textContent()) ?? "").trim();
  type View = {
    signing: { scheme: string; signature_header?: string; timestamp_header?: string };
    public_keys?: { key: string }[];
  };
  const stored = await authhooks.admin.json<View>("GET", `/v1/endpoints/${endpointId}`);
  const key = stored.public_keys?.[0]?.key ?? "";
  assert.match(key, /^whpk_/);
  await row.getByText(`public key ${key}`).waitFor();

  // Moved to a compatibility scheme with its receiver's header names, from the edit form.
  await row.getByRole("button", { name: `Edit: ${endpointId}` }).click();
  const edit = page.locator("#edit-form");
  assert.equal(await edit.getByLabel("Signing").inputValue(), "standard-webhooks-v1a");
  await edit.getByLabel("Signing").selectOption("hmac-iso-timestamped");
  await edit.getByLabel(/^Signature header/).fill("x-authon-signature");
  await edit.getByLabel(/^Timestamp header/).fill("x-authon-timestamp");
  await page.getByRole("button", { name: "Save" }).click();
  await row.getByText("signing hmac-iso-timestamped (x-authon-signature, x-authon-timestamp)").waitFor();
  const moved = await authhooks.admin.json<View>("GET", `/v1/endpoints/${endpointId}`);
  assert.deepEqual(moved.signing, {
    scheme: "hmac-iso-timestamped",
    signature_header: "x-authon-signature",
    timestamp_header: "x-authon-timestamp",
  });
  assert.equal(moved.public_keys, undefined);
  await page.close();
});

test("an endpoint's batching is set and turned off on the page", async () => {
  const page = await browser.newPage();
  await page.goto(`${authhooks.url}/console/`);
  await page.getByLabel("Admin token").fill(authhooks.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Endpoints", exact: true }).click();
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();

  const url = `${receiver.url}batched`;
  const create = page.locator("#create-form");
  await create.getByLabel("URL").fill(url);
  await create.getByLabel(/^Events per POST/).fill("25");
  await create.getByLabel(/^Batch wait/).fill("500");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.locator("#secret").waitFor({ state: "visible" });
  await page.getByRole("button", { name: "Done" }).click();

  const row = page.getByRole("row").filter({ hasText: url });
  await row.getByText("batches of up to 25 events, waiting up to 500 ms").waitFor();
  const endpointId = ((await row.locator("code").textContent()) ?? "").trim();
  type View = { batch: { max_events: number; max_wait_ms: number } | null };
  const stored = await authhooks.admin.json<View>("GET", `/v1/endpoints/${endpointId}`);
  assert.deepEqual(stored.batch, { max_events: 25, max_wait_ms: 500 });

  // A value out of range is refused by the form itself, and changes nothing.
  await row.getByRole("button", { name: `Edit: ${endpointId}` }).click();
  const edit = page.locator("#edit-form");
  const events = edit.getByLabel(/^Events per POST/);
  assert.equal(await events.inputValue(), "25");
  await events.fill("1");
  await page.getByRole("button", { name: "Save" }).click();
  assert.equal(await events.evaluate((input) => (input as HTMLInputElement).validity.rangeUnderflow), true);
  assert.equal(await edit.isVisible(), true);
  const kept = await authhooks.admin.json<View>("GET", `/v1/endpoints/${endpointId}`);
  assert.deepEqual(kept.batch, { max_events: 25, max_wait_ms: 500 });

  // Emptied: one event a POST again.
  await edit.getByLabel(/^Events per POST/).fill("");
  await page.getByRole("button", { name: "Save" }).click();
  await edit.waitFor({ state: "hidden" });
  const off = await authhooks.admin.json<View>("GET", `/v1/endpoints/${endpointId}`);
  assert.equal(off.batch, null);
  assert.equal(await row.getByText(/^batches of up to/).count(), 0);
  await page.close();
});
