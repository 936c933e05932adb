//! Misuse of the real binary: every case ends with exactly one `error:` line on stderr, no
//! panic, exit 2 for usage errors and 1 for runtime failures, and no secret in the message.

use crate::common::{authhooks, closed_port, one_error_line, run, stdout};

const SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn an_unreachable_server_is_named_with_the_reason() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let expected =
        format!("error: cannot reach {url}: connection refused — is `authhooks dev` running?");
    let cases: [&[&str]; 5] = [
        &[
            "--ingest-secret",
            SECRET,
            "send",
            "user.created",
            "--data",
            "{}",
        ],
        &["endpoints", "list"],
        &["endpoints", "rm", "ep_1", "--admin-token", "t0ken"],
        &["failures", "replay", "--all"],
        &["listen", "--events", "user.*"],
    ];
    for args in cases {
        let args = [&["--url", url.as_str()][..], args].concat();
        let out = run(authhooks(&args), None);
        assert_eq!(one_error_line(&out, 1), expected, "authhooks {args:?}");
        assert!(!crate::common::stderr(&out).contains("t0ken"));
    }

    // The URL also comes from the environment.
    let mut command = authhooks(&["endpoints", "get", "ep_1"]);
    command.env("AUTHHOOKS_URL", &url);
    assert_eq!(one_error_line(&run(command, None), 1), expected);
}

#[test]
fn bad_values_are_usage_errors() {
    let send = ["--ingest-secret", SECRET, "send", "user.created"];
    let with = |extra: &[&'static str]| [&send[..], extra].concat();

    let out = run(authhooks(&with(&["--data", "{\"user\": "])), None);
    assert_eq!(
        one_error_line(&out, 2),
        "error: --data is not valid JSON: EOF while parsing a value at line 1 column 9"
    );
    let out = run(authhooks(&with(&["--data", "[1, 2]"])), None);
    assert!(one_error_line(&out, 2).starts_with("error: --data must be a JSON object"));

    let leaked = "whsec_c2hvcnQ="; // base64 of "short": the wrong length
    let out = run(
        authhooks(&["--ingest-secret", leaked, "send", "user.created"]),
        None,
    );
    let line = one_error_line(&out, 2);
    assert_eq!(
        line,
        "error: --ingest-secret: signing secret must be 24 to 64 bytes once decoded, not 5"
    );
    assert!(!line.contains("c2hvcnQ"));

    let out = run(authhooks(&["send", "user.created"]), None);
    assert_eq!(
        one_error_line(&out, 2),
        "error: send needs the ingest secret: pass --ingest-secret or set AUTHHOOKS_INGEST_SECRET"
    );

    let out = run(
        authhooks(&["--url", "127.0.0.1:8787", "endpoints", "list"]),
        None,
    );
    assert!(one_error_line(&out, 2).starts_with("error: --url 127.0.0.1:8787: "));

    let out = run(
        authhooks(&[
            "endpoints",
            "add",
            "--url",
            "https://x",
            "--events",
            "*",
            "--secret",
            "nope",
        ]),
        None,
    );
    assert_eq!(
        one_error_line(&out, 2),
        "error: --secret: signing secret must start with `whsec_`"
    );

    let out = run(authhooks(&["endpoints", "update", "ep_1"]), None);
    assert!(one_error_line(&out, 2).starts_with("error: nothing to update"));
}

#[test]
fn clap_errors_are_folded_into_one_line() {
    let cases: [(&[&str], &str); 9] = [
        (&[], "error: a command is missing: authhooks [OPTIONS] <COMMAND> (see --help)"),
        (&["endpoints"], "error: a command is missing: authhooks endpoints [OPTIONS] <COMMAND> (see --help)"),
        (&["frobnicate"], "error: unrecognized subcommand 'frobnicate' (see --help)"),
        (
            &["endpoints", "add", "--url", "https://cms.example.com/hook"],
            "error: the following required arguments were not provided: --events <TYPES> (see --help)",
        ),
        (
            &["failures", "replay"],
            "error: the following required arguments were not provided: <ID|--all> (see --help)",
        ),
        (
            &["failures", "replay", "--all", "--since", "yesterday"],
            "error: invalid value 'yesterday' for '--since <RFC3339>': expected an RFC 3339 time \
             such as 2026-11-22T10:00:00Z (see --help)",
        ),
        (
            &["endpoints", "update", "ep_1", "--enable", "--disable"],
            "error: the argument '--enable' cannot be used with '--disable' (see --help)",
        ),
        (
            &["endpoints", "add", "--url", "https://cms.example.com/hook", "--events", "*", "--ordering", "fifo"],
            "error: invalid value 'fifo' for '--ordering <ORDER>' [possible values: subject, none] (see --help)",
        ),
        (
            &["endpoints", "update", "ep_1", "--ordering", "Subject"],
            "error: invalid value 'Subject' for '--ordering <ORDER>' [possible values: subject, none] (see --help)",
        ),
    ];
    for (args, expected) in cases {
        let out = run(authhooks(args), None);
        assert_eq!(one_error_line(&out, 2), expected, "authhooks {args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_and_version_succeed_on_stdout() {
    let out = run(authhooks(&["--help"]), None);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("endpoints"));
    let out = run(authhooks(&["--version"]), None);
    assert_eq!(
        stdout(&out),
        format!("authhooks {}\n", env!("CARGO_PKG_VERSION"))
    );

    // A token in the environment is never shown by --help.
    let mut command = authhooks(&["--help"]);
    command.env("AUTHHOOKS_ADMIN_TOKEN", "super-private-token");
    assert!(!stdout(&run(command, None)).contains("super-private"));
}
