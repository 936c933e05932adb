//! An independent check of our signatures: the reference Python verifiers `standardwebhooks`
//! and `svix` (`pip install standardwebhooks svix`) must both accept every recorded request.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::receiver::Recorded;

/// Reads `{"secret", "requests": [{"headers", "body_b64"}]}` from stdin and prints one line
/// per library that rejected a request; exits 1 if any did, 2 if a library is missing.
const SCRIPT: &str = r#"
import base64, json, sys
try:
    import standardwebhooks.webhooks as sw
    import svix.webhooks as sx
except ImportError as err:
    print(f"missing verifier ({err}); run: pip install standardwebhooks svix")
    sys.exit(2)

data = json.load(sys.stdin)
failures = []
for n, req in enumerate(data["requests"]):
    body = base64.b64decode(req["body_b64"])
    for name, verifier in (("standardwebhooks", sw.Webhook), ("svix", sx.Webhook)):
        try:
            verifier(data["secret"]).verify(body, dict(req["headers"]))
        except Exception as err:
            failures.append(f"request {n}: {name} rejected it: {type(err).__name__}: {err}")
print("\n".join(failures) if failures else f"verified {len(data['requests'])} request(s)")
sys.exit(1 if failures else 0)
"#;

/// Run before [`SCRIPT`] by [`verify_with_python_at`]: the libraries read the time with
/// `datetime.now`, so each module's `datetime` is swapped for one whose `now` is the instant
/// given in `AUTHHOOKS_ORACLE_NOW` (unix seconds). Their own 5-minute tolerance then applies
/// around that instant, which lets requests signed under a manual clock be checked at the
/// time they were sent.
const FREEZE_NOW: &str = r#"
import os, sys
from datetime import datetime as _datetime, timezone as _timezone

class _Frozen(_datetime):
    @classmethod
    def now(cls, tz=None):
        at = _datetime.fromtimestamp(float(os.environ["AUTHHOOKS_ORACLE_NOW"]), tz=_timezone.utc)
        return at if tz is None else at.astimezone(tz)

for _name in ("standardwebhooks.webhooks", "svix.webhooks"):
    try:
        __import__(_name)
    except ImportError:
        continue  # reported by the script proper
    if hasattr(sys.modules[_name], "datetime"):
        sys.modules[_name].datetime = _Frozen
"#;

/// Verifies every request with both reference libraries under `secret` (a `whsec_` value).
/// `Err` says which request each library rejected and why; no requests at all is an error.
pub fn verify_with_python(secret: &str, requests: &[Recorded]) -> Result<(), String> {
    run(secret, requests, None)
}

/// As [`verify_with_python`], with the libraries' clock set to `now`: their timestamp
/// check (5 minutes either way) is made as if at that instant.
pub fn verify_with_python_at(
    secret: &str,
    requests: &[Recorded],
    now: DateTime<Utc>,
) -> Result<(), String> {
    run(secret, requests, Some(now))
}

fn run(secret: &str, requests: &[Recorded], now: Option<DateTime<Utc>>) -> Result<(), String> {
    if requests.is_empty() {
        // An oracle that passes on nothing would hide a delivery that never arrived.
        return Err("no requests to verify".to_owned());
    }
    let input = json!({
        "secret": secret,
        "requests": requests.iter().map(|r| json!({
            // Repeated names keep the last value, as the libraries' dict access would.
            "headers": r.headers.iter().cloned().collect::<BTreeMap<String, String>>(),
            "body_b64": base64::engine::general_purpose::STANDARD.encode(&r.body),
        })).collect::<Vec<_>>(),
    });
    let mut command = Command::new("python3");
    match now {
        Some(at) => command
            .args(["-c", &format!("{FREEZE_NOW}\n{SCRIPT}")])
            .env(
                "AUTHHOOKS_ORACLE_NOW",
                at.timestamp_millis().to_string() + "e-3",
            ),
        None => command.args(["-c", SCRIPT]),
    };
    feed(command, &input.to_string())
}

/// Runs `command` with `input` on its stdin: `Ok` if it exits 0, else what it printed.
pub(crate) fn feed(mut command: Command, input: &str) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("could not run {program}: {err}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin
        .write_all(input.as_bytes())
        .map_err(|err| format!("could not feed {program}: {err}"))?;
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|err| format!("{program} failed: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
