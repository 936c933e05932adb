//! `authhooks verify`: checks a captured webhook (its body and signing headers) under any
//! signature scheme, against secrets or (v1a) public keys, with the same code receivers use.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use authhooks::domain::signature::{
    Keys, PublicKey, Scheme, Secret, Signing, DEFAULT_TOLERANCE_SECS, HEADER_WEBHOOK_ID,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::error::CliError;
use crate::input::{read_input, read_stdin};
use crate::output;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Signing secret (whsec_…); repeat it to accept any of several, as during a rotation
    #[arg(long, value_name = "WHSEC", required_unless_present = "public_key")]
    pub secret: Vec<String>,
    /// With standard-webhooks-v1a: the endpoint's public key (whpk_…); repeatable
    #[arg(long, value_name = "WHPK")]
    pub public_key: Vec<String>,
    /// The endpoint's signing scheme
    #[arg(long, value_name = "SCHEME", default_value = "standard-webhooks",
          value_parser = super::endpoint_args::scheme_parser())]
    pub scheme: Scheme,
    /// With a compatibility scheme: the header the signature travels in, if not the default
    #[arg(long, value_name = "NAME")]
    pub signature_header: Option<String>,
    /// With a compatibility scheme: the header the timestamp travels in, if not the default
    #[arg(long, value_name = "NAME")]
    pub timestamp_header: Option<String>,
    /// webhook-id header value
    #[arg(long)]
    pub id: Option<String>,
    /// The timestamp header's value (webhook-timestamp: unix seconds)
    #[arg(long)]
    pub timestamp: Option<String>,
    /// The signature header's value (webhook-signature: "v1,…", space-separated entries)
    #[arg(long)]
    pub signature: Option<String>,
    /// A file of `name: value` lines (captured request headers) supplying whichever of the
    /// scheme's headers the flags do not
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
    let public_keys = args
        .public_key
        .iter()
        .map(|k| PublicKey::parse(k).map_err(|e| CliError::usage(format!("--public-key: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let signing = Signing {
        scheme: args.scheme,
        signature_header: args.signature_header.map(|n| n.to_ascii_lowercase()),
        timestamp_header: args.timestamp_header.map(|n| n.to_ascii_lowercase()),
    };
    let mut headers = match &args.headers {
        Some(path) => {
            let bytes = read_input(path)?;
            HeaderLines::parse(&String::from_utf8_lossy(&bytes))
        }
        None => HeaderLines::default(),
    };
    // A flag wins over the captured header of the same role.
    let roles = [
        ("--id", args.id, Some(HEADER_WEBHOOK_ID)),
        ("--timestamp", args.timestamp, signing.timestamp_header()),
        (
            "--signature",
            args.signature,
            Some(signing.signature_header()),
        ),
    ];
    let mut flags = BTreeMap::new();
    for (flag, value, name) in roles {
        let Some(name) = name else { continue };
        flags.insert(name, flag);
        if let Some(value) = value {
            headers.0.insert(name.to_owned(), value);
        }
    }
    for name in signing.verified_headers() {
        if !headers.0.contains_key(name) {
            let flag = flags.get(name).copied().unwrap_or("--headers");
            return Err(CliError::usage(format!(
                "missing {name}: pass {flag} or a --headers file with a `{name}:` line"
            )));
        }
    }
    let body = match &args.body {
        Some(path) => read_input(path)?,
        None => read_stdin("pass --body FILE or pipe the body into it")?,
    };
    let now = args.now.unwrap_or_else(|| Utc::now().timestamp());
    let now =
        DateTime::from_timestamp(now, 0).ok_or_else(|| CliError::usage("--now: out of range"))?;
    let keys = Keys {
        secrets: &secrets,
        public_keys: &public_keys,
    };
    let lookup = |name: &str| headers.0.get(name).map(String::as_str);
    let verdict = signing.verify(keys, lookup, &body, now, args.tolerance_secs);
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

/// The headers found in `name: value` lines, names lower-cased, the first of a repeated
/// name kept; other lines (the request line, blank lines, the body) are skipped, so a raw
/// capture can be passed as it is.
#[derive(Debug, Default, PartialEq, Eq)]
struct HeaderLines(BTreeMap<String, String>);

impl HeaderLines {
    fn parse(text: &str) -> Self {
        let mut found = BTreeMap::new();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if name.is_empty() || !name.bytes().all(token) {
                continue;
            }
            found.entry(name).or_insert_with(|| value.trim().to_owned());
        }
        Self(found)
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
                    webhook-signature: v1,abc= v1,def=\r\nwebhook-id: second\r\n\r\n{\"a\":1}";
        let found = HeaderLines::parse(text).0;
        assert_eq!(found.get("webhook-id").map(String::as_str), Some("msg_1"));
        assert_eq!(
            found.get("webhook-timestamp").map(String::as_str),
            Some("1700000000")
        );
        assert_eq!(
            found.get("webhook-signature").map(String::as_str),
            Some("v1,abc= v1,def=")
        );
        assert_eq!(
            found.get("content-type").map(String::as_str),
            Some("application/json")
        );
        // Neither the request line nor the body is a header.
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn instants_are_unix_seconds_or_rfc3339() {
        assert_eq!(parse_instant("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_instant("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("").is_err());
    }
}
