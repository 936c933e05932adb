// The tenant portal: one tenant's endpoints, deliveries and failures. The token comes in the
// link's fragment (never sent to a server), is kept for this tab only (sessionStorage) and
// sent as a bearer header, and the fragment is wiped from the address bar. Data is only
// ever set as text, never as HTML (dom.js, shared with the console, comes first).
"use strict";

const cursors = { deliveries: null, failures: null };
let token = null;

/** A portal API call, with the link's token. */
function call(method, path, body) {
  return request(method, path, body, { authorization: `Bearer ${token}` });
}

function endpointRow(endpoint) {
  const row = node("tr");
  const where = node("td");
  where.append(node("div", endpoint.url), node("code", endpoint.id));
  if (endpoint.signing) where.append(node("div", `signing ${endpoint.signing.scheme}`));
  // What a v1a receiver verifies with.
  for (const key of endpoint.public_keys || []) where.append(node("div", `public key ${key.key}`));
  if (endpoint.batch) where.append(node("div", `batches of up to ${endpoint.batch.max_events} events`));
  const state = endpoint.enabled ? "enabled" : `disabled: ${endpoint.disabled_reason || "by hand"}`;
  row.append(where, node("td", endpoint.event_types.join(", ")), node("td", state, { class: endpoint.enabled ? "ok" : "bad" }));
  const path = `/v1/portal/endpoints/${encodeURIComponent(endpoint.id)}`;
  const actions = node("td");
  actions.append(
    button("Send test", async () => {
      const sent = await call("POST", `${path}/test`);
      say(`Test event ${sent.event_id} sent.`);
    }, endpoint.id),
    button(endpoint.enabled ? "Disable" : "Enable", async () => {
      await call("PATCH", path, { enabled: !endpoint.enabled });
      await loadEndpoints();
    }, endpoint.id),
    button("Rotate secret", async () => showSecret(endpoint.id, (await call("POST", `${path}/rotate-secret`)).secret), endpoint.id),
    button("Delete", async () => {
      if (!window.confirm(`Delete ${endpoint.url}?`)) return;
      await call("DELETE", path);
      await loadEndpoints();
    }, endpoint.id),
  );
  row.append(actions);
  return row;
}

function showSecret(endpointId, secret) {
  $("secret-for").textContent = endpointId;
  $("secret-value").textContent = secret;
  $("secret").hidden = false;
  $("secret-done").focus();
}

async function loadEndpoints() {
  const page = await call("GET", "/v1/portal/endpoints");
  $("endpoint-rows").replaceChildren(...page.items.map(endpointRow));
  if (page.items.length === 0) say("No endpoints yet: create one above.");
}

function deliveryRow(entry) {
  const answer = entry.http_status !== null && entry.http_status !== undefined ? `HTTP ${entry.http_status}` : entry.error || "no answer";
  const status = { delivered: "delivered", retrying: "retrying", failed: "given up" }[entry.status];
  const row = node("tr");
  const event = node("td");
  event.append(node("code", entry.event_id), node("div", entry.event_type));
  row.append(node("td", entry.at), event, node("td", entry.endpoint_id),
    node("td", `${status} · attempt ${entry.attempt} · ${answer} · ${entry.latency_ms} ms`, { class: entry.status === "delivered" ? "ok" : "bad" }));
  return row;
}

function failureRow(failure) {
  const row = node("tr");
  const event = node("td");
  event.append(node("code", failure.event_id), node("div", failure.event_type));
  const reason = [failure.reason, failure.last_status, failure.last_error].filter((x) => x !== null && x !== undefined);
  row.append(event, node("td", failure.endpoint_id), node("td", reason.join(" · "), { class: "bad" }), node("td", failure.failed_at));
  const actions = node("td");
  if (failure.replayed_at) actions.append(node("span", `replayed ${failure.replayed_at}`));
  actions.append(button("Replay", async () => {
    await call("POST", `/v1/portal/failures/${encodeURIComponent(failure.id)}/replay`);
    say(`${failure.event_id} replayed.`);
    await loadFailures(false);
  }, failure.event_id));
  row.append(actions);
  return row;
}

async function loadList(name, path, filter, rowsId, moreId, row, more) {
  const query = new URLSearchParams({ limit: "50", ...filter });
  if (more && cursors[name]) query.set("cursor", cursors[name]);
  const page = await call("GET", `${path}?${query}`);
  if (!more) $(rowsId).replaceChildren();
  for (const item of page.items) $(rowsId).append(row(item));
  cursors[name] = page.next_cursor || null;
  $(moreId).hidden = !cursors[name];
}

function deliveryFilter() {
  const status = $("dl-status").value;
  return status ? { status } : {};
}

const loadDeliveries = (more) => loadList("deliveries", "/v1/portal/deliveries", deliveryFilter(), "delivery-rows", "deliveries-more", deliveryRow, more);
const loadFailures = (more) => loadList("failures", "/v1/portal/failures", {}, "failure-rows", "failures-more", failureRow, more);

document.addEventListener("DOMContentLoaded", async () => {
  const fromLink = window.location.hash.slice(1);
  if (fromLink) {
    window.sessionStorage.setItem("authhooks-portal", fromLink);
    window.history.replaceState(null, "", window.location.pathname);
  }
  token = window.sessionStorage.getItem("authhooks-portal");
  if (!token) {
    say("Open the portal from the link you were given.", true);
    return;
  }
  $("create-form").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    const form = event.target;
    const spec = {
      url: form.url.value.trim(),
      event_types: form.event_types.value.split(",").map((t) => t.trim()).filter(Boolean),
      signing: { scheme: form.signing.value },
    };
    const batch = form.batch_max_events.value.trim();
    if (batch !== "") spec.batch = { max_events: Number(batch) };
    const created = await call("POST", "/v1/portal/endpoints", spec);
    form.reset();
    showSecret(created.id, created.secret);
    await loadEndpoints();
  }));
  $("secret-done").addEventListener("click", () => {
    $("secret").hidden = true;
    $("secret-value").textContent = "";
  });
  $("delivery-filter").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    await loadDeliveries(false);
  }));
  $("deliveries-more").addEventListener("click", guarded(() => loadDeliveries(true)));
  $("failures-more").addEventListener("click", guarded(() => loadFailures(true)));
  try {
    const session = await call("GET", "/v1/portal/session");
    $("tenant").textContent = `for ${session.tenant_id}`;
    for (const id of ["endpoints", "deliveries", "failures"]) $(id).hidden = false;
    await Promise.all([loadEndpoints(), loadDeliveries(false), loadFailures(false)]);
    // All three lists drawn: a sign for whoever waits on the page (its tests).
    document.body.dataset.loaded = "true";
  } catch (error) {
    say(error.message, true);
  }
});
