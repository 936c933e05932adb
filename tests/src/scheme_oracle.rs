//! Independent checks of the signature schemes other than Standard Webhooks `v1`: the
//! receivers the design notes' guides write, in Node (each guide's verification, as the
//! guide gives it), and an Ed25519 implementation that is not ours (Python's
//! `cryptography`, installed with moto) for `v1a`. Each also checks that the same request
//! with one byte of its body changed is refused, so an oracle that accepts anything fails.

use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::oracle::feed;
use crate::receiver::Recorded;

/// A receiver style from the guides, and the secret (as text) its configuration holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guide {
    /// Better Auth → Payload (worker signs `createSignature(body, secret)`, hex, in
    /// `X-Webhook-Signature`; the other guide names it `X-BetterAuth-Signature`).
    HexHmac { header: &'static str },
    /// node-auth: `X-Webhook-Signature: sha256=<hex>`, compared whole.
    Sha256Prefixed,
    /// better-auth-webhooks: `X-Webhook-Signature: t=<unix>,v1=<hex of "{t}.{body}">`.
    Timestamped,
    /// Authon's `verifyWebhook(rawBody, signature, timestamp, secret)` with its two
    /// `x-authon-*` headers.
    IsoTimestamped,
}

const NODE: &str = r#"
const { createHmac, timingSafeEqual } = require("crypto");

// Better Auth -> Payload guide: the sender's createSignature, recomputed by the receiver.
function createSignature(body, secret) {
  return createHmac("sha256", secret).update(body).digest("hex");
}
function hexHmac(h, body, secret, header) {
  const signature = h[header] || "";
  const expected = createSignature(body, secret);
  return signature.length === expected.length &&
    timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}
// node-auth: sign(body, secret) = 'sha256=' + hex, verify compares the whole value.
function sha256Prefixed(h, body, secret) {
  const signature = h["x-webhook-signature"] || "";
  const expected = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0;
}
// better-auth-webhooks: X-Webhook-Signature: t=<unix>,v1=<hex of HMAC("{t}.{body}")>.
function timestamped(h, body, secret) {
  const parts = Object.fromEntries((h["x-webhook-signature"] || "").split(",").map((p) => p.split("=")));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest("hex");
  return expected.length === parts.v1.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(parts.v1));
}
// Authon's guide, verbatim but for the try: timingSafeEqual throws on unequal lengths.
function verifyWebhook(rawBody, signature, timestamp, secret) {
  const payload = `${timestamp}.${rawBody.toString()}`;
  const expected = createHmac("sha256", secret).update(payload).digest("hex");
  const actual = signature.replace("v1=", "");
  return timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(actual, "hex"));
}
function isoTimestamped(h, body, secret) {
  try {
    return verifyWebhook(Buffer.from(body), h["x-authon-signature"] || "", h["x-authon-timestamp"] || "", secret);
  } catch (e) {
    return false;
  }
}

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const failures = [];
input.requests.forEach((r, n) => {
  const body = Buffer.from(r.body_b64, "base64").toString("utf8");
  const check = (b) => {
    switch (r.guide.kind) {
      case "hex": return hexHmac(r.headers, b, r.secret, r.guide.header);
      case "sha256": return sha256Prefixed(r.headers, b, r.secret);
      case "timestamped": return timestamped(r.headers, b, r.secret);
      case "iso": return isoTimestamped(r.headers, b, r.secret);
      default: throw new Error("unknown guide " + r.guide.kind);
    }
  };
  if (!check(body)) failures.push(`request ${n} (${r.guide.kind}): the guide's receiver refused it`);
  const tampered = body.slice(0, -1) + (body.endsWith("}") ? " " : "}");
  if (check(tampered)) failures.push(`request ${n} (${r.guide.kind}): a changed body was accepted`);
});
console.log(failures.length ? failures.join("\n") : `verified ${input.requests.length} request(s)`);
process.exit(failures.length ? 1 : 0);
"#;

const PYTHON_V1A: &str = r#"
import base64, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

data = json.load(sys.stdin)
failures = []
for n, req in enumerate(data["requests"]):
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(req["public_key"][len("whpk_"):]))
    h = req["headers"]
    body = base64.b64decode(req["body_b64"])
    def ok(b):
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + b
        for entry in h["webhook-signature"].split(" "):
            version, _, sig = entry.partition(",")
            if version != "v1a":
                continue
            try:
                key.verify(base64.b64decode(sig), signed)
                return True
            except InvalidSignature:
                pass
        return False
    if not ok(body):
        failures.append(f"request {n}: no v1a entry verifies with {req['public_key']}")
    if ok(body + b" "):
        failures.append(f"request {n}: a changed body verified")
print("\n".join(failures) if failures else f"verified {len(data['requests'])} request(s)")
sys.exit(1 if failures else 0)
"#;

fn headers(request: &Recorded) -> Value {
    request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn body_b64(request: &Recorded) -> String {
    base64::engine::general_purpose::STANDARD.encode(&request.body)
}

/// Every `(guide, secret, request)` verified by the guide's own receiver code in Node.
pub fn verify_with_guides(checks: &[(Guide, &str, &Recorded)]) -> Result<(), String> {
    let requests: Vec<Value> = checks
        .iter()
        .map(|(guide, secret, request)| {
            let guide = match guide {
                Guide::HexHmac { header } => json!({"kind": "hex", "header": header}),
                Guide::Sha256Prefixed => json!({"kind": "sha256"}),
                Guide::Timestamped => json!({"kind": "timestamped"}),
                Guide::IsoTimestamped => json!({"kind": "iso"}),
            };
            json!({"guide": guide, "secret": secret, "headers": headers(request), "body_b64": body_b64(request)})
        })
        .collect();
    run("node", &["-e", NODE], &json!({ "requests": requests }))
}

/// Every `(public key, request)` verified as Standard Webhooks v1a by Python's
/// `cryptography`.
pub fn verify_v1a_with_python(checks: &[(&str, &Recorded)]) -> Result<(), String> {
    let requests: Vec<Value> = checks
        .iter()
        .map(|(key, request)| json!({"public_key": key, "headers": headers(request), "body_b64": body_b64(request)}))
        .collect();
    run(
        "python3",
        &["-c", PYTHON_V1A],
        &json!({ "requests": requests }),
    )
}

fn run(program: &str, args: &[&str], input: &Value) -> Result<(), String> {
    if input["requests"].as_array().is_none_or(Vec::is_empty) {
        return Err("no requests to verify".to_owned());
    }
    let mut command = Command::new(program);
    command.args(args);
    feed(command, &input.to_string())
}
