//! `authhooks verify`: checks a captured webhook (body plus the three Standard Webhooks
//! headers) against one or more secrets, with the same code receivers use.

use std::path::PathBuf;
use std::process::ExitCode;

use authhooks::domain::signature::{
    verify, Secret, SignedHeaders, DEFAULT_TOLERANCE_SECS, HEADER_WEBHOOK_ID,
    HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::error::CliError;
use crate::input::{read_input, read_stdin};
use crate::output;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Signing secret (whsec_…); repeat it to accept any of several, as during a rotation
    #[arg(long, required = true, value_name = "WHSEC")]
    pub secret: Vec<String>,
    /// webhook-id header value
    #[arg(long)]
    pub id: Option<String>,
    /// webhook-timestamp header value (unix seconds)
    #[arg(long)]
    pub timestamp: Option<String>,
    /// webhook-signature header value ("v1,…", space-separated entries)
    #[arg(long)]
    pub signature: Option<String>,
    /// A file of `name: value` lines (captured request headers) supplying whichever of the
    /// three headers the flags do not
    #[arg(long, value_name = "FILE")]
    pub headers: Option<PathBuf>,
    /// The raw body, exactly as received; stdin when absent or `-`
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// How far the timestamp may be from now, either way
    #[arg(long, default_value_t = DEFAULT_TOLERANCE_SECS, value_parser = clap::value_parser!(i64).range(0..))]
    pub tolerance_secs: i64,
    /// Check as of this moment (unix seconds or RFC 3339) rather than now, for old captures
    #[arg(long, value_parser = parse_instant, value_name = "WHEN")]
    pub now: Option<i64>,
}

/// `valid` and exit 0, or `invalid: <reason>` and exit 1.
pub fn run(args: VerifyArgs, json: bool) -> Result<ExitCode, CliError> {
    let secrets = args
        .secret
        .iter()
        .map(|s| Secret::parse(s).map_err(|e| CliError::usage(format!("--secret: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let captured = match &args.headers {
        Some(path) => {
            let bytes = read_input(path)?;
            HeaderLines::parse(&String::from_utf8_lossy(&bytes))
        }
        None => HeaderLines::default(),
    };
    let id = pick(args.id, captured.id, "--id", HEADER_WEBHOOK_ID)?;
    let timestamp = pick(
        args.timestamp,
        captured.timestamp,
        "--timestamp",
        HEADER_WEBHOOK_TIMESTAMP,
    )?;
    let signature = pick(
        args.signature,
        captured.signature,
        "--signature",
        HEADER_WEBHOOK_SIGNATURE,
    )?;
    let body = match &args.body {
        Some(path) => read_input(path)?,
        None => read_stdin("pass --body FILE or pipe the body into it")?,
    };
    let headers = SignedHeaders {
        id: &id,
        timestamp: &timestamp,
        signature: &signature,
    };
    let now = args.now.unwrap_or_else(|| Utc::now().timestamp());
    let verdict = verify(&secrets, &headers, &body, now, args.tolerance_secs);
    match (&verdict, json) {
        (Ok(()), false) => output::line("valid")?,
        (Ok(()), true) => output::line(json!({ "valid": true }))?,
        (Err(e), false) => output::line(format!("invalid: {e}"))?,
        (Err(e), true) => output::line(json!({ "valid": false, "reason": e.to_string() }))?,
    }
    Ok(match verdict {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    })
}

/// The flag wins over the captured header; one of them is required.
fn pick(
    flag: Option<String>,
    captured: Option<String>,
    flag_name: &str,
    header: &str,
) -> Result<String, CliError> {
    flag.or(captured).ok_or_else(|| {
        CliError::usage(format!(
            "missing {header}: pass {flag_name} or a --headers file with a `{header}:` line"
        ))
    })
}

/// The three headers found in `name: value` lines; other lines (the request line, other
/// headers, blank lines) are skipped, so a raw capture can be passed as it is.
#[derive(Debug, Default, PartialEq, Eq)]
struct HeaderLines {
    id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
}

impl HeaderLines {
    fn parse(text: &str) -> Self {
        let mut found = Self::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                HEADER_WEBHOOK_ID => &mut found.id,
                HEADER_WEBHOOK_TIMESTAMP => &mut found.timestamp,
                HEADER_WEBHOOK_SIGNATURE => &mut found.signature,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.trim().to_owned());
        }
        found
    }
}

fn parse_instant(text: &str) -> Result<i64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|e| format!("{e}"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| format!("expected unix seconds or an RFC 3339 time ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_come_from_a_raw_capture() {
        let text = "POST http://127.0.0.1:9/hook HTTP/1.1\r\ncontent-type: application/json\r\n\
                    Webhook-Id: msg_1\r\nwebhook-timestamp:  1700000000 \r\n\
                    webhook-signature: v1,abc= v1,def=\r\n\r\n{\"a\":1}";
        assert_eq!(
            HeaderLines::parse(text),
            HeaderLines {
                id: Some("msg_1".into()),
                timestamp: Some("1700000000".into()),
                signature: Some("v1,abc= v1,def=".into()),
            }
        );
    }

    #[test]
    fn instants_are_unix_seconds_or_rfc3339() {
        assert_eq!(parse_instant("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_instant("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("").is_err());
    }
}
