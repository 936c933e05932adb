// The console's Sources page (docs/architecture.md §3.16): the inbound sources, a new one
// from a form (its generated secret shown once), each one's failed requests with their
// bodies, and a dry run of its script (or a changed one) on a sample body. Loaded after
// dom.js and before app.js, whose `call`, `state` and `loadPage` it uses once the page runs.
"use strict";

const SOURCES = {
  name: "sources", path: "/v1/sources", rows: "source-rows", more: "sources-more",
  filter: () => ({}), row: (s) => sourceRow(s), empty: "No sources yet.",
};

const loadSources = (more) => loadPage(SOURCES, more);

function sourceRow(source) {
  const row = node("tr");
  const name = node("td");
  name.append(node("div", source.name), node("code", source.id));
  const verification = [source.verification.scheme, source.verification.header].filter(Boolean).join(" · ");
  row.append(
    name,
    node("td", verification),
    node("td", source.origin || "-"),
    node("td", source.enabled ? "yes" : "no"),
    node("td", source.inbound_path),
  );
  const actions = node("td");
  actions.append(
    button("Failures", () => showSourceFailures(source), source.name),
    button("Try", () => startTry(source), source.name),
  );
  row.append(actions);
  return row;
}

async function createSource(event) {
  event.preventDefault();
  const form = event.target;
  const verification = { scheme: form.scheme.value };
  for (const key of ["secret", "header"]) {
    const value = form[key].value.trim();
    if (value) verification[key] = value;
  }
  const body = { name: form.name.value.trim(), script: form.script.value, verification };
  const origin = form.origin.value.trim();
  if (origin) body.origin = origin;
  const saved = await call("POST", "/v1/sources", body);
  form.reset();
  if (saved.secret) {
    $("source-secret-value").textContent = saved.secret;
    $("source-secret").hidden = false;
  }
  say(`Source ${saved.name} created: the sender posts to ${saved.inbound_path}.`);
  await loadSources(false);
}

/** The source's failed requests, newest first, each with what the script said and its body. */
async function showSourceFailures(source) {
  const page = await call("GET", `/v1/sources/${encodeURIComponent(source.id)}/failures?limit=50`);
  const list = $("source-failure-list");
  list.replaceChildren();
  for (const f of page.items) {
    const item = node("li", `${f.at} · ${f.kind} · ${f.error}`, { class: "bad" });
    for (const line of f.logs || []) item.append(node("div", `log: ${line}`));
    item.append(node("pre", f.body + (f.body_truncated ? "\n…" : "")));
    list.append(item);
  }
  if (page.items.length === 0) list.append(node("li", "No failed requests (they are kept 7 days)."));
  $("source-failures-name").textContent = source.name;
  $("source-failures").hidden = false;
  $("source-failures").focus();
}

/** Opens the dry-run form on a source, its script ready to change. */
async function startTry(source) {
  const full = await call("GET", `/v1/sources/${encodeURIComponent(source.id)}`);
  const form = $("try-form");
  form.dataset.id = full.id;
  form.script.value = full.script;
  $("try-name").textContent = full.name;
  $("try-result").replaceChildren();
  form.hidden = false;
  form.body.focus();
}

async function runTry(event) {
  event.preventDefault();
  const form = event.target;
  const request = { raw: form.body.value, script: form.script.value };
  const run = await call("POST", `/v1/sources/${encodeURIComponent(form.dataset.id)}/dry-run`, request);
  const out = $("try-result");
  out.replaceChildren();
  for (const line of run.logs) out.append(node("p", `log: ${line}`));
  if (run.error) out.append(node("p", run.error, { class: "bad" }));
  else if (run.events.length === 0) out.append(node("p", "No events: the script returned nothing to send."));
  for (const e of run.events) out.append(node("pre", JSON.stringify(e, null, 2)));
  say(run.error ? "The script made no events." : `The script made ${run.events.length} event(s); nothing was sent.`);
}

function wireSources() {
  $("source-form").addEventListener("submit", guarded(createSource));
  $("try-form").addEventListener("submit", guarded(runTry));
  $("sources-more").addEventListener("click", guarded(() => loadSources(true)));
  $("source-secret-done").addEventListener("click", () => {
    $("source-secret").hidden = true;
    $("source-secret-value").textContent = "";
  });
}
