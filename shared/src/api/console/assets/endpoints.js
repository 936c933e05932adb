// The console's Endpoints page: the list with each endpoint's health, the create and edit
// forms (signing scheme and batching included), and the buttons of a row. Loaded before app.js, whose
// helpers (`call`, `say`, `loadPage`) it calls only once the page is wired.
"use strict";

function showSecret(endpointId, secret) {
  $("secret-for").textContent = endpointId;
  $("secret-value").textContent = secret;
  $("secret").hidden = false;
  $("secret-done").focus();
}

function endpointRow(endpoint) {
  const row = node("tr");
  const where = node("td");
  where.append(node("div", endpoint.url), node("code", endpoint.id));
  if (endpoint.description) where.append(node("div", endpoint.description));
  where.append(node("div", signingText(endpoint.signing)));
  if (endpoint.batch) {
    where.append(node("div", `batches of up to ${endpoint.batch.max_events} events, waiting up to ${endpoint.batch.max_wait_ms} ms`));
  }
  for (const key of endpoint.public_keys || []) {
    where.append(node("div", `public key ${key.key}${key.expires_at ? ` (until ${key.expires_at})` : ""}`));
  }
  row.append(where, node("td", endpoint.event_types.join(", ")));
  // Filled from the page of health that follows the page of endpoints (one request).
  const health = node("td", endpoint.enabled ? "enabled" : `disabled: ${endpoint.disabled_reason || "by hand"}`);
  health.dataset.healthOf = endpoint.id;
  health.dataset.ordering = endpoint.ordering;
  row.append(health);
  const actions = node("td");
  const path = `/v1/endpoints/${encodeURIComponent(endpoint.id)}`;
  actions.append(
    button("Send test", async () => {
      const sent = await call("POST", `${path}/test`);
      say(`Test event ${sent.event_id} sent to ${endpoint.id}.`);
    }, endpoint.id),
    button("Recover", async () => {
      const done = await call("POST", `${path}/recover`);
      say(`${endpoint.id}: circuit ${done.circuit}, ${done.brought_forward} waiting deliveries brought forward.`);
      await loadEndpoints(false);
    }, endpoint.id),
    button(endpoint.enabled ? "Disable" : "Enable", async () => {
      await call("PATCH", path, { enabled: !endpoint.enabled });
      say(`${endpoint.id} ${endpoint.enabled ? "disabled" : "enabled"}.`);
      await loadEndpoints(false);
    }, endpoint.id),
    button("Edit", async () => editEndpoint(endpoint), endpoint.id),
    button("Rotate secret", async () => {
      const rotated = await call("POST", `${path}/rotate-secret`);
      showSecret(endpoint.id, rotated.secret);
    }, endpoint.id),
    button("Delete", async () => {
      if (!window.confirm(`Delete ${endpoint.url}? Its waiting deliveries will be given up on.`)) return;
      await call("DELETE", path);
      say(`${endpoint.id} deleted.`);
      await loadEndpoints(false);
    }, endpoint.id),
  );
  row.append(actions);
  return row;
}

/** How an endpoint signs, with the header names a compatibility scheme uses. */
function signingText(signing) {
  if (!signing) return "signing standard-webhooks";
  const names = [signing.signature_header, signing.timestamp_header].filter(Boolean);
  return `signing ${signing.scheme}${names.length ? ` (${names.join(", ")})` : ""}`;
}

/** The signing fields of a form, as the API takes them: header names only when given. */
function signingOf(form) {
  const signing = { scheme: form.signing.value };
  if (form.signature_header.value.trim()) signing.signature_header = form.signature_header.value.trim();
  if (form.timestamp_header.value.trim()) signing.timestamp_header = form.timestamp_header.value.trim();
  return signing;
}

/** The batching fields of a form, as the API takes them: null (one event a POST) when empty. */
function batchOf(form) {
  const events = form.batch_max_events.value.trim();
  if (events === "") return null;
  const batch = { max_events: Number(events) };
  const wait = form.batch_max_wait_ms.value.trim();
  if (wait !== "") batch.max_wait_ms = Number(wait);
  return batch;
}

/** An endpoint's state, circuit, rate limit, last recover and last failure, in `cell`. */
function showHealth(cell, health, ordering) {
  const lines = [health.enabled ? "enabled" : `disabled: ${health.disabled_reason || "by hand"}`];
  let circuit = `circuit ${health.circuit.replace("_", "-")}`;
  if (health.open_since) circuit += ` since ${health.open_since}`;
  const failures = health.consecutive_failures;
  if (failures > 0) circuit += `, ${failures} failure${failures === 1 ? "" : "s"} in a row`;
  lines.push(circuit);
  if (ordering) lines.push(`ordering ${ordering}`);
  const limit = health.rate_limit;
  if (limit) lines.push(`rate limit ${limit.requests_per_second}/s, burst ${limit.burst_size}`);
  if (health.recovered_at) lines.push(`recovered ${health.recovered_at}`);
  const last = health.last_failure;
  if (last) lines.push(`last given up: ${last.failed_at} (${[last.reason, last.last_status].filter((x) => x !== null && x !== undefined).join(" ")})`);
  cell.replaceChildren(...lines.map((line) => node("div", line)));
  cell.className = health.enabled && health.circuit === "closed" ? "ok" : "bad";
}

function editEndpoint(endpoint) {
  const form = $("edit-form");
  form.dataset.id = endpoint.id;
  $("edit-id").textContent = endpoint.id;
  form.url.value = endpoint.url;
  form.event_types.value = endpoint.event_types.join(", ");
  form.timeout_ms.value = String(endpoint.timeout_ms);
  form.description.value = endpoint.description || "";
  const signing = endpoint.signing || { scheme: "standard-webhooks" };
  form.signing.value = signing.scheme;
  form.signature_header.value = signing.signature_header || "";
  form.timestamp_header.value = signing.timestamp_header || "";
  form.batch_max_events.value = endpoint.batch ? String(endpoint.batch.max_events) : "";
  form.batch_max_wait_ms.value = endpoint.batch ? String(endpoint.batch.max_wait_ms) : "";
  // A schedule is shown as it is; an exponential policy stays as it is unless one is typed.
  const retry = endpoint.retry || {};
  form.schedule.value = retry.schedule_secs ? retry.schedule_secs.join(", ") : "";
  form.schedule.placeholder = retry.schedule_secs ? "5, 300, 1800" : "exponential backoff: type a schedule to replace it";
  form.rate.value = endpoint.rate_limit ? String(endpoint.rate_limit.requests_per_second) : "";
  form.burst.value = endpoint.rate_limit ? String(endpoint.rate_limit.burst_size) : "";
  form.failure_threshold.value = String(endpoint.circuit.failure_threshold);
  form.open_timeout_secs.value = String(endpoint.circuit.open_timeout_secs);
  form.hidden = false;
  form.url.focus();
}

/** The retry, rate-limit and circuit fields of the edit form, as a patch. */
function deliverySettings(form) {
  const patch = {
    circuit: {
      failure_threshold: Number(form.failure_threshold.value),
      open_timeout_secs: Number(form.open_timeout_secs.value),
    },
    rate_limit: form.rate.value.trim() === "" ? null : {
      requests_per_second: Number(form.rate.value),
      burst_size: Number(form.burst.value) || Math.max(1, Math.ceil(Number(form.rate.value))),
    },
  };
  const schedule = form.schedule.value.split(",").map((s) => s.trim()).filter(Boolean);
  if (schedule.length > 0) patch.retry = { schedule_secs: schedule.map(Number) };
  return patch;
}

async function saveEndpoint(event) {
  event.preventDefault();
  const form = event.target;
  const patch = {
    url: form.url.value.trim(),
    event_types: eventTypes(form.event_types.value),
    timeout_ms: Number(form.timeout_ms.value),
    description: form.description.value.trim() || null,
    signing: signingOf(form),
    batch: batchOf(form),
    ...deliverySettings(form),
  };
  try {
    await call("PATCH", `/v1/endpoints/${encodeURIComponent(form.dataset.id)}`, patch);
    form.hidden = true;
    say(`${form.dataset.id} saved.`);
    await loadEndpoints(false);
  } catch (error) {
    say(error.message, true);
  }
}

const ENDPOINTS = {
  name: "endpoints", path: "/v1/endpoints", rows: "endpoint-rows", more: "endpoints-more",
  filter: () => ({}), row: (e) => endpointRow(e), empty: "No endpoints yet: create one above.",
  after: (query) => fillHealth(query),
};

/** The same page of endpoints' health (same limit and cursor), into their rows' cells. */
async function fillHealth(query) {
  const page = await call("GET", `/v1/endpoint-health?${query}`);
  for (const health of page.items) {
    const cell = document.querySelector(`[data-health-of="${CSS.escape(health.id)}"]`);
    if (cell) showHealth(cell, health, cell.dataset.ordering);
  }
}
const loadEndpoints = (more) => loadPage(ENDPOINTS, more);
/** The comma-separated event types of a form field. */
function eventTypes(value) {
  return value.split(",").map((t) => t.trim()).filter(Boolean);
}

async function createEndpoint(event) {
  event.preventDefault();
  const form = event.target;
  const spec = {
    url: form.url.value.trim(),
    event_types: eventTypes(form.event_types.value),
    ordering: form.ordering.value,
    signing: signingOf(form),
  };
  const batch = batchOf(form);
  if (batch) spec.batch = batch;
  if (form.description.value.trim()) spec.description = form.description.value.trim();
  try {
    const created = await call("POST", "/v1/endpoints", spec);
    form.reset();
    say(`Endpoint ${created.id} created.`);
    showSecret(created.id, created.secret);
    await loadEndpoints(false);
  } catch (error) {
    say(error.message, true);
  }
}

