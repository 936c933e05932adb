// The authhooks console: plain DOM, no framework, nothing loaded from elsewhere (dom.js, the
// helpers it shares with the portal, comes first). It calls the admin API with the session
// cookie (HttpOnly: this script never sees it) and sends the session's CSRF token with every
// change. Data is only ever set as text, never as HTML.
"use strict";

const state = { csrf: null, view: "overview", cursors: { endpoints: null, failures: null, deliveries: null, health: null, sources: null } };
const VIEWS = ["overview", "endpoints", "deliveries", "failures", "sources"];
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
  const load = { overview: loadOverview, endpoints: loadEndpoints, deliveries: loadDeliveries, failures: loadFailures, sources: loadSources };
  await load[view](false);
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

const FAILURES = {
  name: "failures", path: "/v1/failures", rows: "failure-rows", more: "failures-more",
  filter: () => failureFilter(), row: (f) => failureRow(f), empty: "No failures.",
};

const loadFailures = (more) => loadPage(FAILURES, more);

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
  wireSources();
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
