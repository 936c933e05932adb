// The authhooks console: plain DOM, no framework, nothing loaded from elsewhere (dom.js, the
// helpers it shares with the portal, comes first). It calls the admin API with the session
// cookie (HttpOnly: this script never sees it) and sends the session's CSRF token with every
// change. Data is only ever set as text, never as HTML.
"use strict";

const state = { csrf: null, view: "overview", cursors: { endpoints: null, failures: null, deliveries: null, health: null } };
const VIEWS = ["overview", "endpoints", "deliveries", "failures"];
/** An admin API call: the session cookie goes with it, and its CSRF token with a change. */
function call(method, path, body) {
  const headers = method !== "GET" && state.csrf ? { "x-csrf-token": state.csrf } : {};
  return request(method, path, body, headers, (status) => {
    if (status === 401 && path !== "/console/session") showSignIn();
  });
}

function showSignIn() {
  state.csrf = null;
  $("nav").hidden = true;
  stopLive();
  for (const id of VIEWS) $(id).hidden = true;
  $("sign-in").hidden = false;
  $("token").focus();
}

async function showApp(view) {
  state.view = view;
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  for (const b of document.querySelectorAll("nav [data-view]")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  for (const id of VIEWS) $(id).hidden = id !== view;
  if (view !== "deliveries") stopLive();
  const load = { overview: loadOverview, endpoints: loadEndpoints, deliveries: loadDeliveries, failures: loadFailures };
  await load[view](false);
}

// ---------------------------------------------------------------- endpoints

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

/** One page of a list into its table: the first again, or the next after the last shown.
 * Only the newest load of a list is shown: an older one answering late is dropped. */
const loads = {};
async function loadPage(list, more) {
  const query = new URLSearchParams({ limit: "50", ...list.filter() });
  if (more && state.cursors[list.name]) query.set("cursor", state.cursors[list.name]);
  const ticket = (loads[list.name] = (loads[list.name] || 0) + 1);
  const page = await call("GET", `${list.path}?${query}`);
  if (ticket !== loads[list.name]) return;
  const rows = $(list.rows);
  if (!more) rows.replaceChildren();
  for (const item of page.items) rows.append(list.row(item));
  if (list.after && page.items.length > 0) await list.after(query);
  state.cursors[list.name] = page.next_cursor || null;
  $(list.more).hidden = !state.cursors[list.name];
  if (!more && page.items.length === 0) say(list.empty);
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
const FAILURES = {
  name: "failures", path: "/v1/failures", rows: "failure-rows", more: "failures-more",
  filter: () => failureFilter(), row: (f) => failureRow(f), empty: "No failures.",
};

const loadEndpoints = (more) => loadPage(ENDPOINTS, more);
const loadFailures = (more) => loadPage(FAILURES, more);

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
  };
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

/** A signed link to one tenant's portal, shown on the page (the API knows its own address). */
async function createPortalLink(event) {
  event.preventDefault();
  const form = event.target;
  const link = await call("POST", "/v1/portal-links", {
    tenant_id: form.tenant_id.value.trim(),
    ttl_secs: Math.round(Number(form.minutes.value) * 60),
  });
  $("portal-for").textContent = link.tenant_id;
  $("portal-url").textContent = link.url || link.path;
  $("portal-link").hidden = false;
  say(`Portal link for ${link.tenant_id}, valid until ${link.expires_at}.`);
}

// ---------------------------------------------------------------- failures

function failureFilter() {
  const endpoint = $("filter-endpoint").value.trim();
  return endpoint ? { endpoint_id: endpoint } : {};
}

function failureRow(failure) {
  const row = node("tr");
  const event = node("td");
  event.append(node("code", failure.event_id), node("div", failure.event_type));
  const reason = [failure.reason, failure.last_status, failure.last_error].filter((x) => x !== null && x !== undefined);
  row.append(
    event,
    node("td", failure.endpoint_id),
    node("td", reason.join(" · "), { class: "bad" }),
    node("td", failure.attempts),
    node("td", failure.failed_at),
  );
  const actions = node("td");
  actions.append(button("Attempts", () => showAttempts(failure.event_id), failure.event_id));
  if (failure.replayed_at) actions.append(node("span", `replayed ${failure.replayed_at}`));
  actions.append(
    button("Replay", async () => {
      await call("POST", `/v1/failures/${encodeURIComponent(failure.id)}/replay`);
      say(`${failure.event_id} replayed to ${failure.endpoint_id}.`);
      await loadFailures(false);
    }, failure.event_id),
  );
  row.append(actions);
  return row;
}

/** Every attempt of every delivery of an event, oldest first, as a timeline. */
async function showAttempts(eventId) {
  const attempts = await call("GET", `/v1/events/${encodeURIComponent(eventId)}/attempts`);
  const list = $("attempt-list");
  list.replaceChildren();
  for (const a of attempts.items) {
    const outcome = a.status !== null && a.status !== undefined ? `HTTP ${a.status}` : a.error || "no answer";
    const item = node("li", `${a.at} · ${a.endpoint_id} · attempt ${a.attempt} · ${outcome} · ${a.latency_ms} ms`);
    if (a.error && a.status !== null && a.status !== undefined) item.append(node("div", a.error));
    if (a.snippet) item.append(node("pre", a.snippet));
    list.append(item);
  }
  if (attempts.items.length === 0) list.append(node("li", "No attempts recorded (they are kept 7 days)."));
  $("attempts-event").textContent = eventId;
  $("attempts").hidden = false;
  $("attempts").focus();
}

// ---------------------------------------------------------------- wiring

async function signIn(event) {
  event.preventDefault();
  try {
    const session = await call("POST", "/console/session", { token: $("token").value });
    $("token").value = "";
    state.csrf = session.csrf;
    say("Signed in.");
    await showApp("overview");
  } catch (error) {
    say(error.message, true);
  }
}

async function signOut() {
  await call("DELETE", "/console/session");
  say("Signed out.");
  showSignIn();
}

document.addEventListener("DOMContentLoaded", async () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("create-form").addEventListener("submit", createEndpoint);
  $("edit-form").addEventListener("submit", saveEndpoint);
  $("portal-form").addEventListener("submit", guarded(createPortalLink));
  $("edit-cancel").addEventListener("click", () => {
    $("edit-form").hidden = true;
  });
  $("sign-out").addEventListener("click", guarded(signOut));
  $("secret-done").addEventListener("click", () => {
    $("secret").hidden = true;
    $("secret-value").textContent = "";
  });
  for (const b of document.querySelectorAll("nav [data-view]")) {
    b.addEventListener("click", guarded(() => showApp(b.dataset.view)));
  }
  $("endpoints-more").addEventListener("click", guarded(() => loadEndpoints(true)));
  $("failures-more").addEventListener("click", guarded(() => loadFailures(true)));
  $("failure-filter").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    await loadFailures(false);
  }));
  wireDeliveries();
  $("replay-all").addEventListener("click", guarded(async () => {
    const done = await call("POST", "/v1/failures/replay", failureFilter());
    say(`${done.replayed.length} failures replayed.`);
    await loadFailures(false);
  }));
  try {
    const session = await call("GET", "/console/session");
    state.csrf = session.csrf;
    await showApp("overview");
  } catch {
    showSignIn();
  }
});
