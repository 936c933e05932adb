// The console's Overview and Deliveries pages, over the helpers of app.js (loaded first):
// the last hour's and day's tallies with every endpoint's health, and the delivery log with
// its filters, each delivery's attempts as a timeline, and a live view that refreshes it.
"use strict";

const LIVE_MS = 2000;
let liveTimer = null;

function stopLive() {
  if (liveTimer !== null) {
    window.clearInterval(liveTimer);
    say("Live view stopped.");
  }
  liveTimer = null;
  const live = $("live");
  if (live) live.checked = false;
}

// ---------------------------------------------------------------- overview

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`;
}

/** A quantile: a bucket bound, or beyond the last bound when there were attempts. */
function bound(summary, name) {
  const value = summary[name];
  if (value !== null && value !== undefined) return `≤ ${value} ms`;
  return summary.attempts > 0 ? "> 10 s" : "–";
}

function summaryRow(label, s) {
  const row = node("tr");
  row.append(
    node("th", label, { scope: "row" }),
    node("td", s.attempts),
    node("td", s.delivered),
    node("td", s.retrying),
    node("td", s.failed, { class: s.failed > 0 ? "bad" : "" }),
    node("td", percent(s.success_rate)),
    node("td", bound(s, "p50_latency_ms")),
    node("td", bound(s, "p95_latency_ms")),
    node("td", bound(s, "p99_latency_ms")),
  );
  return row;
}

function healthRow(health) {
  const row = node("tr");
  const where = node("td");
  where.append(node("div", health.url), node("code", health.id));
  const cell = node("td");
  showHealth(cell, health);
  row.append(where, cell);
  return row;
}

const HEALTH = {
  name: "health", path: "/v1/endpoint-health", rows: "health-rows", more: "health-more",
  filter: () => ({}), row: (e) => healthRow(e), empty: "No endpoints yet.",
};

async function loadOverview(more) {
  if (!more) {
    const overview = await call("GET", "/v1/deliveries/overview");
    $("overview-rows").replaceChildren(
      summaryRow("Last hour", overview.last_hour),
      summaryRow("Last day", overview.last_day),
    );
  }
  await loadPage(HEALTH, more);
}

// ---------------------------------------------------------------- deliveries

/** A datetime-local value, read as UTC, in RFC 3339. */
function utc(value) {
  if (!value) return null;
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return `${withSeconds}Z`;
}

function deliveryFilter() {
  const form = $("delivery-filter");
  const filter = {};
  for (const name of ["endpoint_id", "status", "event_type", "subject"]) {
    const value = form[name].value.trim();
    if (value) filter[name] = value;
  }
  for (const name of ["since", "until"]) {
    const value = utc(form[name].value);
    if (value) filter[name] = value;
  }
  return filter;
}

function outcome(entry) {
  const answer = entry.http_status !== null && entry.http_status !== undefined ? `HTTP ${entry.http_status}` : entry.error || "no answer";
  const status = { delivered: "delivered", retrying: "retrying", failed: "given up" }[entry.status];
  return `${status} · ${answer} · ${entry.latency_ms} ms`;
}

function deliveryRow(entry) {
  const row = node("tr");
  const event = node("td");
  event.append(node("code", entry.event_id), node("div", entry.event_type));
  if (entry.subject) event.append(node("div", `subject ${entry.subject}`));
  row.append(
    node("td", entry.at),
    event,
    node("td", entry.endpoint_id),
    node("td", entry.attempt),
    node("td", outcome(entry), { class: entry.status === "delivered" ? "ok" : "bad" }),
  );
  const actions = node("td");
  actions.append(button("Attempts", () => showTimeline(entry.delivery_id), entry.delivery_id));
  row.append(actions);
  return row;
}

const DELIVERIES = {
  name: "deliveries", path: "/v1/deliveries", rows: "delivery-rows", more: "deliveries-more",
  filter: () => deliveryFilter(), row: (e) => deliveryRow(e), empty: "No deliveries match.",
};

const loadDeliveries = (more) => loadPage(DELIVERIES, more);

/** One delivery's attempts, oldest first, each with its outcome and response snippet. */
async function showTimeline(deliveryId) {
  const query = new URLSearchParams({ delivery_id: deliveryId, limit: "100" });
  const page = await call("GET", `/v1/deliveries?${query}`);
  const list = $("timeline-list");
  list.replaceChildren();
  for (const entry of page.items.slice().reverse()) {
    const item = node("li", `${entry.at} · attempt ${entry.attempt} · ${outcome(entry)}`);
    if (entry.error && entry.http_status !== null && entry.http_status !== undefined) item.append(node("div", entry.error));
    if (entry.snippet) item.append(node("pre", entry.snippet));
    list.append(item);
  }
  $("timeline-delivery").textContent = deliveryId;
  $("timeline").hidden = false;
  $("timeline").focus();
}

function wireDeliveries() {
  $("health-more").addEventListener("click", guarded(() => loadPage(HEALTH, true)));
  $("deliveries-more").addEventListener("click", guarded(() => loadDeliveries(true)));
  $("delivery-filter").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    await loadDeliveries(false);
  }));
  // Live: the first page again every two seconds, while the box is ticked and the page shown.
  $("live").addEventListener("change", () => {
    if (!$("live").checked) {
      stopLive();
      return;
    }
    liveTimer = window.setInterval(() => {
      if (state.view !== "deliveries") return stopLive();
      loadDeliveries(false).catch((error) => say(error.message, true));
    }, LIVE_MS);
    say("Live: the newest deliveries every 2 seconds.");
  });
}
