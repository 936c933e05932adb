//! The HTTP sender against real sockets on 127.0.0.1: what arrives, how answers, broken
//! connections and timeouts map to attempt results, and the SSRF guard.

use std::time::{Duration, Instant};

use chrono::Utc;

use authhooks::adapters::http::{HttpSender, LazyHttpSender, SenderConfig};
use authhooks::domain::delivery::MAX_SNIPPET_CHARS;
use authhooks::domain::outcome::{classify, AttemptResult, TransportFailure, Verdict};
use authhooks::domain::signature::{signature_header, Secret};
use authhooks::domain::webhook::USER_AGENT;
use authhooks::ports::{OutgoingRequest, SendReport, Sender};
use authhooks_tests::receiver::Reply;
use authhooks_tests::{reset_server, verify_with_python, RawScript, RawServer, Receiver};

const BODY: &str = r#"{"id":"evt_1","type":"user.created","data":{"user":{"id":"u_1"}}}"#;
const WAIT: Duration = Duration::from_secs(5);

fn sender(allow_private: bool) -> HttpSender {
    HttpSender::new(SenderConfig {
        allow_private,
        ..SenderConfig::default()
    })
    .unwrap()
}

fn post(url: &str, timeout: Duration) -> OutgoingRequest {
    OutgoingRequest {
        url: url.to_owned(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: BODY.as_bytes().to_vec(),
        timeout,
    }
}

async fn send(sender: &HttpSender, url: &str) -> SendReport {
    sender.send(post(url, WAIT)).await
}

fn status_of(report: &SendReport) -> u16 {
    match &report.result {
        AttemptResult::Response { status, .. } => *status,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn response(status: u16, retry_after: Option<&str>, snippet: Option<&str>) -> AttemptResult {
    AttemptResult::Response {
        status,
        retry_after: retry_after.map(str::to_owned),
        snippet: snippet.map(str::to_owned),
    }
}

fn assert_quicker_than(started: Instant, limit: Duration) {
    let took = started.elapsed();
    assert!(took < limit, "took {took:?}, limit {limit:?}");
}

fn forbidden_message(report: &SendReport) -> &str {
    match &report.result {
        AttemptResult::Transport(TransportFailure::Forbidden(message)) => message,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

/// Standard Webhooks headers signed with every secret given, plus an extra header.
fn signed_request(url: &str, secrets: &[&Secret]) -> OutgoingRequest {
    let timestamp = Utc::now().timestamp();
    let signature = signature_header(secrets.iter().copied(), "evt_1", timestamp, BODY.as_bytes());
    OutgoingRequest {
        headers: vec![
            ("x-team".into(), "cms".into()),
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), USER_AGENT.into()),
            ("webhook-attempt".into(), "1".into()),
            ("webhook-id".into(), "evt_1".into()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), signature),
        ],
        ..post(url, WAIT)
    }
}

#[tokio::test]
async fn a_signed_delivery_arrives_intact_and_the_reference_verifiers_accept_it() {
    let receiver = Receiver::start().await;
    let (old, new) = (Secret::generate([1; 32]), Secret::generate([2; 32]));
    let request = signed_request(&receiver.url(), &[&new, &old]);

    let report = sender(true).send(request.clone()).await;

    assert_eq!(report.result, response(200, None, None));
    assert!(report.latency > Duration::ZERO && report.latency < WAIT);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("POST", "/hook")
    );
    assert_eq!(got[0].body, BODY.as_bytes());
    for (name, value) in &request.headers {
        assert_eq!(got[0].header(name), Some(value.as_str()), "header {name}");
    }
    // Both secrets of a rotation verify, with both reference libraries.
    verify_with_python(&old.expose(), &got).unwrap();
    verify_with_python(&new.expose(), &got).unwrap();
}

/// The oracle can fail: a tampered body, a wrong secret, or nothing to check.
#[tokio::test]
async fn the_oracle_rejects_tampering_and_wrong_secrets() {
    let receiver = Receiver::start().await;
    let secret = Secret::generate([4; 32]);
    sender(true)
        .send(signed_request(&receiver.url(), &[&secret]))
        .await;
    let mut tampered = receiver.wait_for(1, WAIT).await;
    tampered[0].body = BODY.replace("u_1", "u_2").into_bytes();

    let err = verify_with_python(&secret.expose(), &tampered).unwrap_err();
    assert!(
        err.contains("standardwebhooks rejected") && err.contains("svix rejected"),
        "{err}"
    );
    let stranger = Secret::generate([3; 32]);
    assert!(verify_with_python(&stranger.expose(), &receiver.requests()).is_err());
    assert!(verify_with_python(&secret.expose(), &[]).is_err());
}

#[tokio::test]
async fn retry_after_on_503_reaches_the_domain() {
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| {
        Reply::status(503)
            .with_header("Retry-After", "7")
            .with_body("busy")
    });

    let report = send(&sender(true), &receiver.url()).await;

    assert_eq!(report.result, response(503, Some("7"), Some("busy")));
    assert_eq!(
        classify(&report.result, Utc::now()),
        Verdict::Retryable {
            retry_after: Some(Duration::from_secs(7))
        }
    );
}

#[tokio::test]
async fn the_script_can_change_mid_test() {
    let receiver = Receiver::start().await;
    receiver.set_reply(|n| Reply::status(if n == 1 { 500 } else { 204 }));
    let sender = sender(true);
    assert_eq!(status_of(&send(&sender, &receiver.url()).await), 500);
    assert_eq!(status_of(&send(&sender, &receiver.url()).await), 204);
    receiver.set_reply(|_| Reply::status(410));
    assert_eq!(status_of(&send(&sender, &receiver.url()).await), 410);
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn redirects_are_answers_not_followed() {
    let (first, second) = (Receiver::start().await, Receiver::start().await);
    let target = second.url();
    first.set_reply(move |_| Reply::status(302).with_header("location", &target));

    let report = send(&sender(true), &first.url()).await;

    assert_eq!(status_of(&report), 302);
    assert_eq!(first.requests().len(), 1);
    assert!(second.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn a_slow_receiver_times_out_at_the_request_timeout() {
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(200).after(Duration::from_secs(3)));
    let started = Instant::now();

    let report = sender(true)
        .send(post(&receiver.url(), Duration::from_millis(300)))
        .await;

    assert_eq!(
        report.result,
        AttemptResult::Transport(TransportFailure::Timeout)
    );
    assert_quicker_than(started, Duration::from_millis(1500));
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn nobody_listening_is_a_connect_failure_and_leaks_no_query() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let report = send(
        &sender(true),
        &format!("http://127.0.0.1:{port}/hook?token=hunter2"),
    )
    .await;

    match &report.result {
        AttemptResult::Transport(TransportFailure::Connect(message)) => {
            assert!(
                !message.contains("hunter2") && !message.contains("token"),
                "{message}"
            );
        }
        other => panic!("expected Connect, got {other:?}"),
    }
}

/// The server reads the whole request before resetting, so the connection was up and the
/// exchange broke: Reset. (Connect is only for failures before a connection exists.) A
/// server that closes without answering broke the exchange just the same.
#[tokio::test]
async fn a_reset_or_close_mid_exchange_is_reported_as_reset() {
    let resets = reset_server().await;
    let closes = RawServer::start(RawScript::WriteThenClose(Vec::new())).await;

    for server in [&resets, &closes] {
        let report = send(&sender(true), &server.url()).await;
        let broken = matches!(
            report.result,
            AttemptResult::Transport(TransportFailure::Reset(_))
        );
        assert!(broken, "{:?}", report.result);
        assert_eq!(server.accepted(), 1);
    }
}

#[tokio::test]
async fn a_huge_body_is_cut_to_a_snippet() {
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(500).with_body("x".repeat(5 * 1024 * 1024)));
    let started = Instant::now();

    let report = send(&sender(true), &receiver.url()).await;

    assert_quicker_than(started, Duration::from_secs(2));
    let snippet = "x".repeat(MAX_SNIPPET_CHARS);
    assert_eq!(report.result, response(500, None, Some(&snippet)));
}

/// A body announced as 1 GB that stalls after 8 KiB: the sender stops at its cap instead of
/// waiting for the rest, so it returns long before the 5 s request timeout.
#[tokio::test]
async fn an_endless_body_is_not_waited_for() {
    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n".to_vec();
    bytes.extend([b'y'; 8192]);
    let server = RawServer::start(RawScript::WriteThenHang(bytes)).await;
    let started = Instant::now();

    let report = send(&sender(true), &server.url()).await;

    assert_quicker_than(started, Duration::from_secs(1));
    assert_eq!(status_of(&report), 200);
}

/// The status is the answer: a body that breaks off or stalls only shortens the snippet.
#[tokio::test]
async fn a_status_counts_even_when_the_body_breaks_off() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial".to_vec();
    let closes = RawServer::start(RawScript::WriteThenClose(head.clone())).await;
    let stalls = RawServer::start(RawScript::WriteThenHang(head)).await;
    let sender = sender(true);
    let expected = response(200, None, Some("partial"));

    assert_eq!(send(&sender, &closes.url()).await.result, expected);
    let started = Instant::now();
    let stalled = sender
        .send(post(&stalls.url(), Duration::from_millis(300)))
        .await;
    assert_eq!(stalled.result, expected);
    assert_quicker_than(started, Duration::from_millis(1500));
}

#[tokio::test]
async fn a_sender_built_at_its_first_delivery_sends_and_guards_like_the_eager_one() {
    let receiver = Receiver::start().await;
    receiver.set_reply(|_| Reply::status(503).with_body("busy"));
    let allowed = LazyHttpSender::new(SenderConfig {
        allow_private: true,
        ..SenderConfig::default()
    });
    let report = allowed.send(post(&receiver.url(), WAIT)).await;
    assert_eq!(report.result, response(503, None, Some("busy")));

    // The default configuration keeps the SSRF guard: loopback is refused unsent.
    let guarded = LazyHttpSender::new(SenderConfig::default());
    let refused = guarded.send(post(&receiver.url(), WAIT)).await;
    assert!(forbidden_message(&refused).ends_with("is a loopback address"));
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn loopback_literals_are_refused_before_connecting() {
    let receiver = Receiver::start().await;
    let port = receiver.port();
    let sender = sender(false);

    let v4 = send(
        &sender,
        &format!("http://127.0.0.1:{port}/hook?sig=topsecret"),
    )
    .await;
    assert_eq!(forbidden_message(&v4), "127.0.0.1 is a loopback address");
    let mapped = send(&sender, &format!("http://[::ffff:127.0.0.1]:{port}/hook")).await;
    assert!(forbidden_message(&mapped).ends_with("is a loopback address"));
    let decimal = send(&sender, &format!("http://2130706433:{port}/hook")).await;
    assert!(forbidden_message(&decimal).ends_with("is a loopback address"));

    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
    let receiver = Receiver::start().await;
    let url = format!("http://localhost:{}/hook", receiver.port());

    let refused = send(&sender(false), &url).await;
    assert!(
        forbidden_message(&refused).starts_with("localhost resolves only to a loopback address"),
        "{refused:?}"
    );
    assert!(receiver.requests().is_empty());

    // The same name through the same resolver path, where loopback is allowed.
    assert_eq!(status_of(&send(&sender(true), &url).await), 200);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn cloud_metadata_is_refused_even_where_private_addresses_are_allowed() {
    let sender = sender(true);
    let started = Instant::now();

    let report = send(&sender, "http://169.254.169.254/latest/meta-data/").await;

    // Refused up front: an attempt to connect would take until the connect timeout.
    assert_quicker_than(started, Duration::from_millis(100));
    assert_eq!(
        forbidden_message(&report),
        "169.254.169.254 is a cloud metadata address"
    );
    assert_eq!(classify(&report.result, Utc::now()), Verdict::Forbidden);
}
