// What the console's and the portal's pages share: elements made with text only (never
// HTML), buttons that report their failure on the status line, and JSON requests whose
// problem+json answers become errors naming their fields. Loaded before each page's script.
"use strict";

const $ = (id) => document.getElementById(id);

function say(message, bad = false) {
  const status = $("status");
  status.textContent = message;
  status.className = bad ? "bad" : "";
}

/** A JSON request with `headers`; the answer's JSON, or an Error from its problem. */
async function request(method, path, body, headers, onStatus = () => {}) {
  const all = { ...headers };
  if (body !== undefined) all["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers: all,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  onStatus(response.status);
  if (!response.ok) {
    const fields = (data && data.errors ? data.errors : []).map((e) => `${e.field}: ${e.message}`);
    throw new Error([data && (data.detail || data.title), ...fields].filter(Boolean).join("; "));
  }
  return data;
}

function node(tag, text, attrs = {}) {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

function button(label, action, description) {
  const b = node("button", label, { type: "button" });
  if (description) b.setAttribute("aria-label", `${label}: ${description}`);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await action();
    } catch (error) {
      say(error.message, true);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** An event handler whose failure is reported on the status line. */
function guarded(action) {
  return async (event) => {
    try {
      await action(event);
    } catch (error) {
      say(error.message, true);
    }
  };
}
