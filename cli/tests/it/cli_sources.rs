//! `authhooks sources …` against local mode in this process: a source made from a script
//! file, tried on a sample body, fed a real signed inbound request, its failures listed,
//! changed and removed; misuse is one error line.

use authhooks::domain::signature::{sign_headers, Secret};
use serde_json::Value;

use crate::common::admin::{admin, cli, field};
use crate::common::{one_error_line, stderr, stdout, Scratch};

const SCRIPT: &str = r#"function handler(request) {
  const { collection, doc } = request.body;
  if (collection !== "users") throw new Error("not a user: " + collection);
  console.log("mapping", doc.id);
  return { type: "user.updated", subject: doc.betterAuthId, data: { user: { id: doc.betterAuthId, name: doc.name } } };
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_source_is_added_tried_fed_and_its_failures_listed() {
    let (url, _running) = admin().await;
    let scratch = Scratch::new("sources");
    let script = scratch.file("payload.js", SCRIPT.as_bytes());
    let out = cli(
        &url,
        &[
            "sources",
            "add",
            "--name",
            "Payload users",
            "--script",
            &script,
            "--verify",
            "standard-webhooks",
            "--origin",
            "payload",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    let id = field(&printed, "id").to_owned();
    assert!(id.starts_with("src_"), "{printed}");
    assert_eq!(field(&printed, "inbound path"), format!("/v1/inbound/{id}"));
    assert!(
        printed.contains("function handler(request)"),
        "the script is shown: {printed}"
    );
    let secret = printed.lines().last().unwrap().trim();
    let secret = Secret::parse(secret).unwrap_or_else(|e| panic!("{e}: {printed}"));

    // A dry run: the event as it would be delivered, and the script's log line.
    let sample = scratch.file(
        "sample.json",
        br#"{"collection":"users","doc":{"id":"64f","betterAuthId":"u_1","name":"Ada"}}"#,
    );
    let out = cli(&url, &["sources", "try", &id, "--body", &sample]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.starts_with("log: mapping 64f\n"), "{printed}");
    let event: Value = serde_json::from_str(printed.split_once('\n').unwrap().1).unwrap();
    assert_eq!(
        (event["type"].as_str(), event["origin"].as_str()),
        (Some("user.updated"), Some("payload"))
    );
    // A script that fails says why, exit 1.
    let other = scratch.file("orders.json", br#"{"collection":"orders","doc":{}}"#);
    let out = cli(&url, &["sources", "try", &id, "--body", &other]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("no events: the script threw: not a user: orders"),
        "{}",
        stdout(&out)
    );

    // A real inbound request the script fails on is kept, and listed.
    let body = br#"{"collection":"orders","doc":{}}"#.to_vec();
    let now = chrono::Utc::now().timestamp();
    let mut request = reqwest::Client::new()
        .post(format!("{url}/v1/inbound/{id}"))
        .body(body.clone());
    for (name, value) in sign_headers([&secret], "msg_cli_1", now, &body) {
        request = request.header(name, value);
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let answer: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["failure"]["kind"], "script");
    let out = cli(&url, &["sources", "errors", &id]).await;
    let printed = stdout(&out);
    assert!(
        printed
            .lines()
            .any(|l| l.contains(answer["failure"]["id"].as_str().unwrap())
                && l.contains("not a user: orders")),
        "{printed}"
    );

    let out = cli(
        &url,
        &["sources", "update", &id, "--disabled", "--no-origin"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(field(&stdout(&out), "enabled"), "false");
    let listed = stdout(&cli(&url, &["sources", "list"]).await);
    assert!(
        listed
            .lines()
            .any(|l| l.contains(&id) && l.contains("standard-webhooks")),
        "{listed}"
    );
    let out = cli(&url, &["sources", "rm", &id]).await;
    assert_eq!(out.status.code(), Some(0));
    let gone = cli(&url, &["sources", "get", &id]).await;
    one_error_line(&gone, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn misuse_is_one_error_line_and_changes_nothing() {
    let (url, _running) = admin().await;
    let scratch = Scratch::new("sources-misuse");
    let broken = scratch.file("broken.js", b"function handler( {");
    let good = scratch.file("good.js", b"function handler() { return null; }");
    let line = one_error_line(
        &cli(
            &url,
            &["sources", "add", "--name", "x", "--verify", "stripe"],
        )
        .await,
        2,
    );
    assert!(line.contains("--script is required"), "{line}");
    let line = one_error_line(
        &cli(
            &url,
            &[
                "sources",
                "add",
                "--name",
                "x",
                "--script",
                &broken,
                "--verify",
                "standard-webhooks",
            ],
        )
        .await,
        1,
    );
    assert!(line.contains("script"), "{line}");
    let line = one_error_line(
        &cli(
            &url,
            &[
                "sources", "add", "--name", "x", "--script", &good, "--verify", "stripe",
            ],
        )
        .await,
        1,
    );
    assert!(line.contains("verification.secret"), "{line}");
    let line = one_error_line(
        &cli(
            &url,
            &[
                "sources",
                "add",
                "--name",
                "x",
                "--script",
                &good,
                "--secret",
                "abcdefgh12",
            ],
        )
        .await,
        2,
    );
    assert!(line.contains("--verify"), "{line}");
    let listed = stdout(&cli(&url, &["sources", "list", "--json"]).await);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["items"], serde_json::json!([]));
}
