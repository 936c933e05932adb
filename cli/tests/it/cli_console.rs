//! `authhooks console --admin-url`: the real binary in front of an admin API running over
//! the AWS path (DynamoDB and SQS on moto), behind a gate that stands in for the Function
//! URL's IAM auth. The page's calls arrive signed, and botocore (an independent SigV4
//! implementation) recomputes every signature from the same credentials; calls without a
//! session, a change without the CSRF token, and a foreign `Host` never leave the proxy.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use authhooks::ports::{SystemClock, SystemEntropy};
use authhooks::system::Settings;
use authhooks_tests::moto::aws_world;
use authhooks_tests::sender::ScriptedSender;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{authhooks, one_error_line, run, serve};

const ACCESS_KEY: &str = "AKIDCONSOLETEST";
const SECRET_KEY: &str = "console/secret/key";
const SESSION_TOKEN: &str = "console-session-token";
const ADMIN_TOKEN: &str = "adm_behind_the_gate";

/// What reached the gate: enough to recompute its signature.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

/// The Function URL's stand-in: refuses what is not SigV4-signed for `lambda` with the test
/// credentials (as IAM would, with 403), records the rest, and hands it to the admin API
/// with that API's bearer token.
fn gate(admin: axum::Router, seen: Seen) -> axum::Router {
    axum::Router::new().fallback(move |request: Request| {
        let admin = admin.clone();
        let seen = seen.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = to_bytes(body, 1 << 20).await.unwrap();
            let authorization = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let scope = format!("Credential={ACCESS_KEY}/");
            if !authorization.starts_with("AWS4-HMAC-SHA256 ")
                || !authorization.contains(&scope)
                || !authorization.contains("/us-east-1/lambda/aws4_request")
            {
                return (StatusCode::FORBIDDEN, "{\"Message\":\"Forbidden\"}").into_response();
            }
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), json!(v.to_str().unwrap())))
                .collect();
            let host = parts.headers["host"].to_str().unwrap();
            seen.0.lock().unwrap().push(json!({
                "method": parts.method.as_str(),
                "url": format!("http://{host}{}", parts.uri),
                "headers": headers,
                "body_b64": base64::engine::general_purpose::STANDARD.encode(&body),
            }));
            let mut inner = Request::builder()
                .method(parts.method)
                .uri(parts.uri)
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"));
            if let Some(ct) = parts.headers.get("content-type") {
                inner = inner.header("content-type", ct);
            }
            let answer: Response = admin
                .oneshot(inner.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            answer
        }
    })
}

/// Recomputes each recorded request's signature with botocore; prints what differs.
const ORACLE: &str = r#"
import base64, json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

data = json.load(sys.stdin)
creds = Credentials(data["access_key"], data["secret_key"], data["token"])
bad = []
for n, r in enumerate(data["requests"]):
    header = r["headers"]["authorization"][len("AWS4-HMAC-SHA256 "):]
    parts = dict(p.strip().split("=", 1) for p in header.split(","))
    signed = parts["SignedHeaders"].split(";")
    headers = {k: v for k, v in r["headers"].items() if k in signed}
    request = AWSRequest(method=r["method"], url=r["url"], headers=headers,
                         data=base64.b64decode(r["body_b64"]))
    request.context["timestamp"] = r["headers"]["x-amz-date"]
    signer = SigV4Auth(creds, "lambda", "us-east-1")
    canonical = signer.canonical_request(request)
    want = signer.signature(signer.string_to_sign(request, canonical), request)
    if want != parts["Signature"] or "x-amz-security-token" not in signed:
        bad.append(f"request {n} ({r['method']} {r['url']}): botocore signs {want}, got {parts['Signature']}, signed {signed}")
print("\n".join(bad) if bad else f"botocore agrees on {len(data['requests'])} signature(s)")
sys.exit(1 if bad else 0)
"#;

/// Whether botocore computes the signature each request carries, and what it said.
fn botocore_agrees(requests: &[Value]) -> (bool, String) {
    let input = json!({"access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
                       "token": SESSION_TOKEN, "requests": requests});
    let mut child = Command::new("python3")
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// The page's side: its cookie once signed in, and its CSRF token for changes.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Browser {
    /// The status, the body (JSON, or the text as a JSON string) and the headers.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let text = answer.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body, headers)
    }
}

/// The command with test credentials and nothing of this machine's AWS configuration.
fn console(args: &[&str]) -> Command {
    let mut command = authhooks(&[&["console"], args].concat());
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_CONFIG_FILE", "/nonexistent/authhooks-test"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/authhooks-test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        command.env(name, value);
    }
    command.env_remove("AWS_PROFILE").env_remove("AWS_REGION");
    command
}

/// Started; its URL and sign-in token read from what it prints.
struct Running {
    child: Child,
    url: String,
    token: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(admin_url: &str) -> Running {
    let mut child = console(&[
        "--admin-url",
        admin_url,
        "--region",
        "us-east-1",
        "--port",
        "0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .trim_end_matches("/console/")
        .to_owned();
    let second = lines.next().unwrap().unwrap();
    let token = second
        .trim()
        .strip_prefix("sign in with: ")
        .unwrap_or_else(|| panic!("no token in {second:?}"))
        .to_owned();
    // Whatever else it prints is read, so its output never meets a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Running { child, url, token }
}

#[tokio::test]
async fn the_console_signs_every_admin_call_and_guards_the_session() {
    let world = aws_world().await;
    let sender = Arc::new(ScriptedSender::new(Arc::new(SystemClock)));
    let settings = Settings {
        admin_token: Some(ADMIN_TOKEN.into()),
        ..Settings::permissive()
    };
    let system = world
        .backend
        .builder(Arc::new(SystemClock), Arc::new(SystemEntropy), sender)
        .settings(settings)
        .build();
    let seen = Seen::default();
    let gate_url = serve(gate(system.admin_router(), seen.clone())).await;
    let running = tokio::task::spawn_blocking(move || start(&gate_url))
        .await
        .unwrap();
    let base = running.url.clone();
    let page = Browser {
        http: reqwest::Client::new(),
        base: running.url.clone(),
        cookie: None,
        csrf: None,
    };

    let (status, html, _) = page.call("GET", "/console/", None).await;
    assert_eq!(status, 200);
    assert!(html.as_str().unwrap().contains("authhooks console"));
    assert_eq!(
        page.call("GET", "/v1/endpoints", None).await.0,
        401,
        "no session yet"
    );
    let guess = json!({"token": "ahc_guess"});
    assert_eq!(
        page.call("POST", "/console/session", Some(guess)).await.0,
        401
    );
    let (status, session, headers) = page
        .call(
            "POST",
            "/console/session",
            Some(json!({"token": running.token})),
        )
        .await;
    assert_eq!(status, 200);
    // What a browser sends back: the cookie's name and value.
    let cookie = headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let reader = Browser {
        cookie: Some(cookie),
        ..page
    };
    let writer = Browser {
        csrf: Some(session["csrf"].as_str().unwrap().to_owned()),
        ..reader.clone()
    };

    // A change, with the CSRF token: stored on the AWS path.
    let spec = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["user.*"],
                      "description": "through the console"});
    let (status, created, _) = writer.call("POST", "/v1/endpoints", Some(spec)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let stored = authhooks::ports::EndpointStore::get(
        &world.endpoints,
        &authhooks::domain::ids::EndpointId::parse(&id).unwrap(),
    )
    .await
    .unwrap()
    .expect("stored in DynamoDB");
    assert_eq!(stored.description.as_deref(), Some("through the console"));

    // Reads with a query string, and a problem passed on as the API answered it.
    let (_, listed, _) = reader.call("GET", "/v1/endpoints?limit=100", None).await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id));
    let search = format!("/v1/deliveries?endpoint_id={id}&status=failed");
    assert_eq!(reader.call("GET", &search, None).await.0, 200);
    let (status, _, headers) = reader.call("GET", "/v1/deliveries?status=lost", None).await;
    assert_eq!(status, 422);
    assert_eq!(headers["content-type"], "application/problem+json");

    let before = seen.0.lock().unwrap().len();
    // A change without the CSRF token, and a page on another host name: refused here.
    let path = format!("/v1/endpoints/{id}");
    assert_eq!(reader.call("DELETE", &path, None).await.0, 403);
    let rebound = reqwest::Client::new()
        .get(format!("{base}/v1/endpoints"))
        .header("host", "attacker.example")
        .header("cookie", reader.cookie.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    assert_eq!(
        seen.0.lock().unwrap().len(),
        before,
        "refused calls were forwarded"
    );

    let requests = seen.0.lock().unwrap().clone();
    assert_eq!(requests.len(), 4, "{requests:#?}");
    let (agrees, said) = botocore_agrees(&requests);
    assert!(agrees, "{said}");
    // The oracle can tell: the same requests with one body changed do not pass.
    let mut tampered = requests.clone();
    tampered[0]["body_b64"] = json!(base64::engine::general_purpose::STANDARD.encode("{}"));
    let (agrees, said) = botocore_agrees(&tampered);
    assert!(!agrees && said.contains("request 0"), "{said}");
    drop(running);
}

#[test]
fn a_console_without_a_usable_admin_url_or_region_is_one_error_line() {
    let out = run(console(&["--admin-url", "ftp://x"]), None);
    let line = one_error_line(&out, 2);
    assert!(line.contains("--admin-url"), "{line}");
    let out = run(console(&["--admin-url", "http://127.0.0.1:9"]), None);
    let line = one_error_line(&out, 2);
    assert!(line.contains("--region"), "{line}");
}
