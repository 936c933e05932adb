//! The admin commands (endpoints, failures) against the real admin API, served by local
//! mode in this process.

use authhooks::domain::signature::Secret;
use serde_json::{json, Value};

use crate::common::admin::{admin, cli, field, TOKEN};
use crate::common::{authhooks, one_error_line, run_async, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_is_added_shown_changed_rotated_and_removed() {
    let (url, _running) = admin().await;
    let out = cli(
        &url,
        &[
            "endpoints",
            "add",
            "--url",
            "https://cms.example.com/hook",
            "--events",
            "user.*,session.revoked",
            "--description",
            "Payload CMS",
            "--rate-rps",
            "10",
            "--rate-burst",
            "20",
            "--header",
            "x-team=cms",
            "--timeout-ms",
            "5000",
            "--origin",
            "payload",
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    let printed = stdout(&out);
    let id = field(&printed, "id").to_owned();
    assert_eq!(field(&printed, "event_types"), "user.*,session.revoked");
    assert_eq!(field(&printed, "rate_limit"), "10.0/s, burst 20");
    assert_eq!(field(&printed, "headers"), "x-team=cms");
    assert_eq!(field(&printed, "ordering"), "subject", "the default");
    let (label, secret) = printed
        .rsplit_once('\n')
        .map(|(a, _)| a.rsplit_once('\n').unwrap())
        .unwrap();
    assert!(
        label.ends_with("Signing secret (shown once; store it now):"),
        "{printed}"
    );
    Secret::parse(secret.trim()).unwrap();

    let listed = stdout(&cli(&url, &["endpoints", "list"]).await);
    assert!(
        listed.lines().next().unwrap().contains("ORDERING"),
        "{listed}"
    );
    assert!(listed.lines().any(|l| l.contains(&id)
        && l.contains("https://cms.example.com/hook")
        && l.contains(" subject ")));

    let out = cli(
        &url,
        &[
            "endpoints",
            "update",
            &id,
            "--disable",
            "--description",
            "",
            "--no-rate-limit",
            "--ordering",
            "none",
        ],
    )
    .await;
    let printed = stdout(&out);
    assert_eq!(field(&printed, "enabled"), "no");
    assert_eq!(field(&printed, "description"), "-");
    assert_eq!(field(&printed, "rate_limit"), "unlimited");
    assert_eq!(field(&printed, "ordering"), "none");
    let shown = stdout(&cli(&url, &["endpoints", "get", &id]).await);
    assert_eq!(field(&shown, "ordering"), "none", "{shown}");
    let args = ["endpoints", "update", &id, "--ordering", "subject"];
    assert_eq!(
        field(&stdout(&cli(&url, &args).await), "ordering"),
        "subject"
    );

    let hook = "https://billing.example.com/hook";
    let args = [
        "endpoints",
        "add",
        "--url",
        hook,
        "--events",
        "*",
        "--ordering",
        "none",
    ];
    let created: Value =
        serde_json::from_slice(&cli(&url, &[&args[..], &["--json"]].concat()).await.stdout)
            .unwrap();
    assert_eq!(created["ordering"], "none", "{created}");

    let out = cli(&url, &["endpoints", "rotate-secret", &id, "--json"]).await;
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    Secret::parse(rotated["secret"].as_str().unwrap()).unwrap();

    assert_eq!(
        stdout(&cli(&url, &["endpoints", "rm", &id]).await),
        format!("deleted {id}\n")
    );
    let out = cli(&url, &["endpoints", "get", &id]).await;
    assert_eq!(
        one_error_line(&out, 1),
        format!("error: endpoint {id} does not exist (HTTP 404)")
    );
}

/// An endpoint for every event type; its id.
async fn add_endpoint(url: &str) -> String {
    let args = [
        "endpoints",
        "add",
        "--url",
        "https://x.example.com/h",
        "--events",
        "*",
        "--json",
    ];
    let created: Value = serde_json::from_slice(&cli(url, &args).await.stdout).unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_is_recovered_and_an_unknown_one_refused() {
    let (url, _running) = admin().await;
    let id = add_endpoint(&url).await;
    let id = id.as_str();

    let out = cli(&url, &["endpoints", "recover", id]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    assert_eq!(
        stdout(&out),
        format!(
            "recovered {id}: circuit closed; 0 waiting deliveries sent now, any others at \
             their next look (docs/operations.md)\n"
        )
    );
    let out = cli(&url, &["endpoints", "recover", id, "--json"]).await;
    let recovered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recovered["id"], id, "{recovered}");
    assert_eq!(recovered["circuit"], "closed", "{recovered}");
    assert!(recovered["recovered_at"].is_string(), "{recovered}");

    let out = cli(&url, &["endpoints", "recover", "ep_nope"]).await;
    assert_eq!(
        one_error_line(&out, 1),
        "error: endpoint ep_nope does not exist (HTTP 404)"
    );
    let out = cli(&url, &["endpoints", "recover"]).await;
    assert!(
        one_error_line(&out, 2).starts_with("error: "),
        "{}",
        crate::common::stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoints_health_is_shown_and_an_unknown_one_refused() {
    let (url, _running) = admin().await;
    let id = add_endpoint(&url).await;
    let id = id.as_str();
    assert_eq!(
        cli(&url, &["endpoints", "recover", id]).await.status.code(),
        Some(0)
    );

    let out = cli(&url, &["endpoints", "health", id]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    let shown = stdout(&out);
    for line in [
        format!("id  {id}"),
        "circuit  closed".into(),
        "failures_in_a_row  0".into(),
        "last_failure  -".into(),
    ] {
        assert!(
            shown
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>().join("  ") == line),
            "{line:?} not in\n{shown}"
        );
    }
    let out = cli(&url, &["endpoints", "health", id, "--json"]).await;
    let health: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(health["circuit"], "closed", "{health}");
    assert!(
        health["recovered_at"].is_string(),
        "the recover is noted: {health}"
    );

    let out = cli(&url, &["endpoints", "health", "ep_nope"]).await;
    assert_eq!(
        one_error_line(&out, 1),
        "error: endpoint ep_nope does not exist (HTTP 404)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_name_the_fields_and_the_token() {
    let (url, _running) = admin().await;
    let out = cli(
        &url,
        &[
            "endpoints",
            "add",
            "--url",
            "http://169.254.169.254/latest",
            "--events",
            "User.*",
        ],
    )
    .await;
    let line = one_error_line(&out, 1);
    assert!(
        line.starts_with("error: 2 fields are invalid (HTTP 422): "),
        "{line}"
    );
    assert!(
        line.contains("event_types[0]: a prefix pattern must be"),
        "{line}"
    );
    assert!(line.contains("url: "), "{line}");
    let listed = stdout(&cli(&url, &["endpoints", "list", "--json"]).await);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["items"], json!([]), "nothing was stored");

    let wrong = [
        "--url",
        url.as_str(),
        "--admin-token",
        "guess",
        "endpoints",
        "list",
    ];
    let line = one_error_line(&run_async(authhooks(&wrong), None).await, 1);
    assert!(
        line.ends_with("(HTTP 401) — check --admin-token (or AUTHHOOKS_ADMIN_TOKEN)"),
        "{line}"
    );
    assert!(!line.contains("guess"));
    let line = one_error_line(
        &run_async(
            authhooks(&["--url", &url, "failures", "replay", "--all"]),
            None,
        )
        .await,
        1,
    );
    assert!(line.ends_with(
        "— pass --admin-token or set AUTHHOOKS_ADMIN_TOKEN (`authhooks dev` prints it)"
    ));
}

/// An endpoint nobody answers at, retried once at once, so its deliveries fail fast.
async fn dead_endpoint(url: &str) -> String {
    let port = crate::common::closed_port();
    let out = cli(
        url,
        &[
            "endpoints",
            "add",
            "--url",
            &format!("http://127.0.0.1:{port}/hook"),
            "--events",
            "*",
            "--json",
        ],
    )
    .await;
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let patch = cli(url, &["endpoints", "update", &id, "--timeout-ms", "500"]).await;
    assert_eq!(
        patch.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&patch)
    );
    id
}

async fn failures(url: &str, endpoint: &str) -> Vec<Value> {
    let out = cli(url, &["failures", "list", "--endpoint", endpoint, "--json"]).await;
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    listed["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_listed_and_replayed_by_filter() {
    let (url, running) = admin().await;
    let (dead, other) = (dead_endpoint(&url).await, dead_endpoint(&url).await);
    // The CLI sets no retry schedule, so the default one would apply; patch it down to one
    // immediate retry through the API.
    let client = reqwest::Client::new();
    for id in [&dead, &other] {
        let answer = client
            .patch(format!("{url}/v1/endpoints/{id}"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(json!({"retry": {"schedule_secs": [0]}}).to_string())
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
    }
    let sent = crate::common::run_async(
        crate::common::authhooks(&[
            "--url",
            &url,
            "send",
            "user.created",
            "--ingest-secret",
            crate::common::admin::INGEST_SECRET,
        ]),
        None,
    )
    .await;
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&sent)
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while failures(&url, &dead).await.is_empty() || failures(&url, &other).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no failure recorded");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let listed = stdout(&cli(&url, &["failures", "list"]).await);
    assert!(
        listed.contains(&dead) && listed.contains(&other),
        "{listed}"
    );

    let failure = failures(&url, &dead).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = cli(
        &url,
        &[
            "failures",
            "replay",
            "--all",
            "--endpoint",
            &dead,
            "--since",
            "2020-01-01T00:00:00+02:00",
        ],
    )
    .await;
    assert_eq!(
        stdout(&out),
        format!("replayed 1: {failure}\n"),
        "{}",
        crate::common::stderr(&out)
    );
    let replayed = failures(&url, &dead).await;
    let original = replayed
        .iter()
        .find(|f| f["id"] == failure.as_str())
        .unwrap();
    assert!(original["replayed_at"].is_string(), "{original}");
    assert!(failures(&url, &other).await[0]["replayed_at"].is_null());
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_are_searched_and_summed_and_portal_links_printed() {
    let (url, _running) = admin().await;
    let dead = dead_endpoint(&url).await;
    let sent = cli(&url, &["endpoints", "test", &dead]).await;
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&sent)
    );
    // The attempt is logged once the worker's batch is done.
    let mut found = Vec::new();
    for _ in 0..100 {
        let out = cli(&url, &["deliveries", "list", "--endpoint", &dead, "--json"]).await;
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        found = listed["items"].as_array().unwrap().clone();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["endpoint_id"], dead.as_str());
    assert_eq!(found[0]["attempt"], 1);
    let table = stdout(&cli(&url, &["deliveries", "list", "--endpoint", &dead]).await);
    assert!(
        table.contains(&dead) && table.contains("connect"),
        "{table}"
    );
    let summed = stdout(&cli(&url, &["deliveries", "overview"]).await);
    assert!(
        summed.contains("last hour") && summed.contains("last day"),
        "{summed}"
    );

    let bad = cli(&url, &["deliveries", "list", "--status", "lost"]).await;
    let line = one_error_line(&bad, 1);
    assert!(line.contains("status"), "{line}");

    let link = stdout(&cli(&url, &["portal", "link", "acme", "--ttl-secs", "600"]).await);
    let first = link.lines().next().unwrap();
    assert!(first.starts_with(&format!("{url}/portal/#ahp_")), "{link}");
    assert!(link.contains("for tenant acme"), "{link}");
    let refused = cli(&url, &["portal", "link", "acme", "--ttl-secs", "5"]).await;
    let line = one_error_line(&refused, 1);
    assert!(line.contains("ttl_secs"), "{line}");
}
