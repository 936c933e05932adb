//! `authhooks verify` run as a process: captured webhooks from files and stdin, judged valid,
//! tampered, signed with another secret, or stale.

use crate::common::{authhooks, one_error_line, run, stdout, Scratch};
use authhooks::domain::signature::{sign, Message, PublicKey, Scheme, Secret, Signing};

/// The Standard Webhooks project's published test vector.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: &str = "1614265330";
const BODY: &str = r#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A webhook signed just now with `secret`: (id, timestamp, signature).
fn fresh(secret: &str, body: &str) -> (String, String, String) {
    let ts = now();
    let signature = sign(
        &Secret::parse(secret).unwrap(),
        "msg_fresh",
        ts,
        body.as_bytes(),
    );
    ("msg_fresh".into(), ts.to_string(), signature)
}

#[test]
fn a_capture_in_files_is_valid_as_of_its_time() {
    let dir = Scratch::new("verify-files");
    let headers = format!(
        "POST /hooks HTTP/1.1\ncontent-type: application/json\nwebhook-id: {ID}\n\
         webhook-timestamp: {TIMESTAMP}\nwebhook-signature: {SIGNATURE}\n"
    );
    let headers = dir.file("headers.txt", headers.as_bytes());
    let body = dir.file("body.json", BODY.as_bytes());
    let args = [
        "verify",
        "--secret",
        SECRET,
        "--headers",
        &headers,
        "--body",
        &body,
    ];

    let then = [&args[..], &["--now", TIMESTAMP]].concat();
    let out = run(authhooks(&then), None);
    assert_eq!(stdout(&out), "valid\n");
    assert_eq!(out.status.code(), Some(0));

    // The same capture checked today is five years stale.
    let out = run(authhooks(&args), None);
    assert!(
        stdout(&out).starts_with("invalid: webhook-timestamp is "),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("s in the past, beyond the 300 s tolerance"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
}

#[test]
fn a_fresh_webhook_on_stdin_is_valid_and_tampering_is_not() {
    let body = r#"{"type":"user.created","data":{"user":{"id":"u_1"}}}"#;
    let (id, ts, signature) = fresh(SECRET, body);
    let args = [
        "verify",
        "--secret",
        SECRET,
        "--id",
        &id,
        "--timestamp",
        &ts,
        "--signature",
        &signature,
    ];
    let out = run(authhooks(&args), Some(body.as_bytes()));
    assert_eq!(stdout(&out), "valid\n");
    assert_eq!(out.status.code(), Some(0));

    let tampered = body.replace("u_1", "u_2");
    let out = run(authhooks(&args), Some(tampered.as_bytes()));
    assert_eq!(
        stdout(&out),
        "invalid: no v1 entry in webhook-signature matches a signing secret\n"
    );
    assert_eq!(out.status.code(), Some(1));

    // A trailing newline is part of the signed bytes.
    let out = run(authhooks(&args), Some(format!("{body}\n").as_bytes()));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn another_secret_is_refused_and_a_rotation_pair_accepted() {
    let other = "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur";
    let (id, ts, signature) = fresh(SECRET, BODY);
    let flags = [
        "--id",
        &id,
        "--timestamp",
        &ts,
        "--signature",
        &signature,
        "--json",
    ];

    let wrong = [&["verify", "--secret", other][..], &flags].concat();
    let out = run(authhooks(&wrong), Some(BODY.as_bytes()));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["valid"], false);
    assert_eq!(out.status.code(), Some(1));

    let both = [
        &["verify", "--secret", other, "--secret", SECRET][..],
        &flags,
    ]
    .concat();
    let out = run(authhooks(&both), Some(BODY.as_bytes()));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict, serde_json::json!({"valid": true}));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_timestamp_from_the_future_or_not_a_number_is_invalid() {
    let ahead = (now() + 3600).to_string();
    let args = [
        "verify",
        "--secret",
        SECRET,
        "--id",
        ID,
        "--timestamp",
        &ahead,
        "--signature",
        SIGNATURE,
        "--tolerance-secs",
        "60",
    ];
    let out = run(authhooks(&args), Some(BODY.as_bytes()));
    assert!(stdout(&out).contains("in the future, beyond the 60 s tolerance"));
    assert_eq!(out.status.code(), Some(1));

    let args = [
        "verify",
        "--secret",
        SECRET,
        "--id",
        ID,
        "--timestamp",
        "+1614265330",
        "--signature",
        SIGNATURE,
    ];
    let out = run(authhooks(&args), Some(BODY.as_bytes()));
    assert_eq!(
        stdout(&out),
        "invalid: webhook-timestamp is not a whole number of unix seconds\n"
    );
}

#[test]
fn verify_misuse_is_one_line_and_never_echoes_the_secret() {
    let base = [
        "--id",
        ID,
        "--timestamp",
        TIMESTAMP,
        "--signature",
        SIGNATURE,
    ];

    let bad = "whsec_!!notbase64-but-private";
    let out = run(
        authhooks(&[&["verify", "--secret", bad][..], &base].concat()),
        Some(b"{}"),
    );
    let line = one_error_line(&out, 2);
    assert_eq!(
        line,
        "error: --secret: signing secret must be `whsec_` followed by standard base64"
    );
    assert!(!line.contains("private"));

    let out = run(
        authhooks(&["verify", "--secret", "sk_live_123", "--id", ID]),
        Some(b"{}"),
    );
    assert!(one_error_line(&out, 2).contains("must start with `whsec_`"));

    let out = run(
        authhooks(&["verify", "--secret", SECRET, "--id", ID]),
        Some(b"{}"),
    );
    assert_eq!(
        one_error_line(&out, 2),
        "error: missing webhook-timestamp: pass --timestamp or a --headers file with a \
         `webhook-timestamp:` line"
    );

    let args = [
        &[
            "verify",
            "--secret",
            SECRET,
            "--body",
            "/nonexistent/body.json",
        ][..],
        &base,
    ]
    .concat();
    let line = one_error_line(&run(authhooks(&args), None), 1);
    assert!(
        line.starts_with("error: cannot read /nonexistent/body.json: "),
        "{line}"
    );
}

/// A capture signed just now under `signing`, written as a headers file and a body file.
fn capture(dir: &Scratch, signing: &Signing, secret: &Secret, body: &str) -> (String, String) {
    let message = Message {
        id: "msg_scheme",
        event_type: "user.created",
        at: chrono::Utc::now(),
        body: body.as_bytes(),
    };
    let lines: String = signing
        .sign(&[secret], &message)
        .into_iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect();
    let name = signing.scheme.name();
    (
        dir.file(&format!("{name}.headers"), lines.as_bytes()),
        dir.file(&format!("{name}.body"), body.as_bytes()),
    )
}

#[test]
fn every_scheme_is_verified_and_a_v1a_capture_takes_the_public_key() {
    let dir = Scratch::new("verify-schemes");
    let secret = Secret::parse(SECRET).unwrap();
    let other = Secret::generate([9; 32]);
    let body = r#"{"type":"user.created","data":{"user":{"id":"u_1"}}}"#;
    for scheme in Scheme::ALL {
        let (headers, body_file) = capture(&dir, &Signing::new(scheme), &secret, body);
        let base = [
            "verify",
            "--scheme",
            scheme.name(),
            "--headers",
            &headers,
            "--body",
            &body_file,
        ];
        // v1a verifies with the public key; every other scheme with the secret.
        let key = |s: &Secret| match scheme {
            Scheme::StandardWebhooksV1a => ["--public-key".to_owned(), PublicKey::of(s).expose()],
            _ => ["--secret".to_owned(), s.expose()],
        };
        let with = |s: &Secret| {
            let key = key(s);
            let args = [&base[..], &[key[0].as_str(), key[1].as_str()]].concat();
            run(authhooks(&args), None)
        };
        let ok = with(&secret);
        assert_eq!(stdout(&ok), "valid\n", "{}", scheme.name());
        assert_eq!(ok.status.code(), Some(0));
        let refused = with(&other);
        let text = stdout(&refused);
        assert!(text.starts_with("invalid: "), "{}: {text}", scheme.name());
        assert_eq!(refused.status.code(), Some(1));
    }
}

#[test]
fn a_compatibility_capture_is_read_under_the_header_names_given() {
    let dir = Scratch::new("verify-names");
    let secret = Secret::parse(SECRET).unwrap();
    let signing = Signing {
        scheme: Scheme::HmacIsoTimestamped,
        signature_header: Some("x-authon-signature".into()),
        timestamp_header: Some("x-authon-timestamp".into()),
    };
    let (headers, body) = capture(&dir, &signing, &secret, "{}");
    let base = [
        "verify",
        "--scheme",
        "hmac-iso-timestamped",
        "--secret",
        SECRET,
        "--headers",
        &headers,
        "--body",
        &body,
    ];
    let named = [
        &base[..],
        &[
            "--signature-header",
            "X-Authon-Signature",
            "--timestamp-header",
            "x-authon-timestamp",
        ],
    ]
    .concat();
    let out = run(authhooks(&named), None);
    assert_eq!(stdout(&out), "valid\n");
    // Under the default names the capture has no signature: a usage error naming it.
    let out = run(authhooks(&base), None);
    assert_eq!(
        one_error_line(&out, 2),
        "error: missing x-webhook-signature: pass --signature or a --headers file with a \
         `x-webhook-signature:` line"
    );
}
