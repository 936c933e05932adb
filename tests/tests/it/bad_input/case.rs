//! One corpus case (tests/corpus/README.md): loading the files, building the body from its
//! inline form or generator, the signing modes of ingest cases and the bearer modes of admin
//! cases, and the checks every answer must pass.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use authhooks::domain::signature::{sign, Secret};

/// The secret ingest is configured with; cases sign with it unless told otherwise.
pub const INGEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const ADMIN_TOKEN: &str = "bad-input-admin-token";
/// The signature tolerance ingest applies (DESIGN: 5 minutes).
const TOLERANCE: i64 = 300;

pub struct Case {
    pub file: String,
    pub spec: Value,
}

impl Case {
    pub fn method(&self) -> &str {
        self.spec["method"].as_str().unwrap()
    }

    /// The path, `{endpoint}` replaced by the id of the endpoint the setup created.
    pub fn path(&self, endpoint: &str) -> String {
        self.spec["path"]
            .as_str()
            .unwrap()
            .replace("{endpoint}", endpoint)
    }

    pub fn status(&self) -> u16 {
        self.spec["expect"]["status"].as_u64().unwrap() as u16
    }

    pub fn local(&self) -> bool {
        self.spec["local"] == Value::Bool(true)
    }

    /// The body bytes: `json`, `text`, `base64`, or a generator (`repeat`, `nest`, `batch`).
    pub fn body(&self) -> Vec<u8> {
        let Some(body) = self.spec.get("body") else {
            return Vec::new();
        };
        let around = |inner: String| {
            let before = body["before"].as_str().unwrap_or("");
            let after = body["after"].as_str().unwrap_or("");
            format!("{before}{inner}{after}").into_bytes()
        };
        if let Some(json) = body.get("json") {
            serde_json::to_vec(json).unwrap()
        } else if let Some(text) = body["text"].as_str() {
            text.as_bytes().to_vec()
        } else if let Some(encoded) = body["base64"].as_str() {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap()
        } else if let Some(unit) = body["repeat"].as_str() {
            around(unit.repeat(body["times"].as_u64().unwrap() as usize))
        } else if let Some(depth) = body["nest"].as_u64() {
            let depth = depth as usize;
            around(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
        } else if let Some(count) = body["batch"].as_u64() {
            let events = vec![body["event"].clone(); count as usize];
            serde_json::to_vec(&serde_json::json!({ "events": events })).unwrap()
        } else {
            panic!("{}: unknown body form {body}", self.file)
        }
    }

    /// The literal headers, then the Standard Webhooks headers an ingest case's `signature`
    /// mode asks for (signed correctly by default), or the admin `auth` mode's bearer token.
    pub fn headers(&self, body: &[u8], now: i64) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self.spec["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        if self.spec["path"]
            .as_str()
            .unwrap()
            .starts_with("/v1/events")
            && self.method() == "POST"
        {
            headers.extend(signed(
                self.spec["signature"].as_str().unwrap_or("valid"),
                body,
                now,
            ));
        } else {
            let auth = self.spec["auth"].as_str().unwrap_or("valid");
            if let Some(value) = bearer(auth) {
                headers.push(("authorization".into(), value));
            }
        }
        headers
    }
}

fn bearer(mode: &str) -> Option<String> {
    Some(match mode {
        "valid" => format!("Bearer {ADMIN_TOKEN}"),
        "missing" => return None,
        "wrong" => "Bearer not-the-token".into(),
        "basic" => format!("Basic {ADMIN_TOKEN}"),
        "lowercase-scheme" => format!("bearer {ADMIN_TOKEN}"),
        "empty-token" => "Bearer ".into(),
        "token-with-suffix" => format!("Bearer {ADMIN_TOKEN}x"),
        other => panic!("unknown auth mode {other}"),
    })
}

/// `webhook-id`, `webhook-timestamp`, `webhook-signature` for a signing mode.
fn signed(mode: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    let secret = Secret::parse(INGEST_SECRET).unwrap();
    let other = Secret::generate([7; 32]);
    let id = "msg_bad_input";
    let original = br#"{"type":"user.created","data":{"user_id":"u_0"}}"#;
    let (id, ts, sig) = match mode {
        "valid" => (id.into(), now.to_string(), sign(&secret, id, now, body)),
        "wrong-secret" => (id.into(), now.to_string(), sign(&other, id, now, body)),
        "stale" => {
            let at = now - TOLERANCE - 1;
            (id.into(), at.to_string(), sign(&secret, id, at, body))
        }
        "future" => {
            let at = now + TOLERANCE + 60;
            (id.into(), at.to_string(), sign(&secret, id, at, body))
        }
        // A captured (id, timestamp, signature) replayed with another body.
        "replayed" => (id.into(), now.to_string(), sign(&secret, id, now, original)),
        // A captured request replayed byte for byte, after the tolerance window.
        "replayed-stale" => {
            let at = now - 3600;
            (id.into(), at.to_string(), sign(&secret, id, at, body))
        }
        "garbage" => (id.into(), now.to_string(), "v1,not-base64!!".into()),
        "empty" => (id.into(), now.to_string(), String::new()),
        "v2-scheme" => {
            let good = sign(&secret, id, now, body);
            (id.into(), now.to_string(), good.replacen("v1,", "v2,", 1))
        }
        "truncated" => {
            let good = sign(&secret, id, now, body);
            (
                id.into(),
                now.to_string(),
                good[..good.len() - 6].to_owned(),
            )
        }
        "timestamp-not-a-number" => (id.into(), "now".into(), sign(&secret, id, now, body)),
        "timestamp-float" => (id.into(), format!("{now}.0"), sign(&secret, id, now, body)),
        "timestamp-overflow" => (
            id.into(),
            "99999999999999999999999".into(),
            sign(&secret, id, now, body),
        ),
        "other-id" => (
            "msg_other".into(),
            now.to_string(),
            sign(&secret, id, now, body),
        ),
        "body-tampered" => {
            let mut tampered = body.to_vec();
            tampered.push(b' ');
            (
                id.into(),
                now.to_string(),
                sign(&secret, id, now, &tampered),
            )
        }
        "whitespace-in-signature" => {
            let good = sign(&secret, id, now, body);
            (id.into(), now.to_string(), good.replacen(',', ", ", 1))
        }
        missing => {
            let good = sign(&secret, id, now, body);
            let all = [
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", now.to_string()),
                ("webhook-signature", good),
            ];
            let dropped = match missing {
                "missing-all" => "webhook-",
                "missing-id" => "webhook-id",
                "missing-timestamp" => "webhook-timestamp",
                "missing-signature" => "webhook-signature",
                other => panic!("unknown signature mode {other}"),
            };
            return all
                .into_iter()
                .filter(|(name, _)| !name.starts_with(dropped))
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
        }
    };
    vec![
        ("webhook-id".into(), id),
        ("webhook-timestamp".into(), ts),
        ("webhook-signature".into(), sig),
    ]
}

/// Every case file under `tests/corpus/<kind>`, in name order.
pub fn load(kind: &str) -> Vec<Case> {
    let dir = corpus_dir().join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let spec: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a case: {e}", path.display()));
            let file = format!("{kind}/{}", path.file_name().unwrap().to_string_lossy());
            Case { file, spec }
        })
        .collect()
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The answer's problems against the case's expectation; empty when it passes.
pub fn check(case: &Case, status: u16, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if status != case.status() {
        problems.push(format!(
            "status {status}, expected {} ({text})",
            case.status()
        ));
    }
    if content_type != Some("application/problem+json") {
        problems.push(format!("content-type {content_type:?} ({text})"));
    }
    let Ok(problem) = serde_json::from_slice::<Value>(body) else {
        problems.push(format!("body is not JSON: {text}"));
        return problems;
    };
    for key in ["type", "title", "detail"] {
        if problem[key].as_str().is_none_or(str::is_empty) {
            problems.push(format!("problem has no `{key}`: {problem}"));
        }
    }
    if problem["status"].as_u64() != Some(u64::from(status)) {
        problems.push(format!(
            "problem status {} != HTTP {status}",
            problem["status"]
        ));
    }
    if let Some(expected) = case.spec["expect"].get("fields") {
        let mut want: Vec<&str> = expected
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let mut got: Vec<&str> = problem["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        want.sort_unstable();
        want.dedup();
        got.sort_unstable();
        got.dedup();
        if want != got {
            problems.push(format!(
                "error fields {got:?}, expected {want:?} ({problem})"
            ));
        }
    }
    problems
}
