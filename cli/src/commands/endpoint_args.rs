//! The flags of `endpoints add` and `endpoints update`, and the JSON bodies they become
//! (docs/architecture.md §3.2). Only given fields are sent; the server validates and reports the rest.

use authhooks::domain::order::DeliveryOrder;
use authhooks::domain::signature::Scheme;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde_json::{json, Map, Value};

use crate::error::CliError;

/// Fields shared by `add` and `update`.
#[derive(clap::Args, Debug)]
pub struct FieldArgs {
    /// What the endpoint is for
    #[arg(long)]
    pub description: Option<String>,
    /// Requests per second allowed to the endpoint (with --rate-burst)
    #[arg(long, requires = "rate_burst", value_name = "N")]
    pub rate_rps: Option<f64>,
    /// Burst size of the rate limit (with --rate-rps)
    #[arg(long, requires = "rate_rps", value_name = "N")]
    pub rate_burst: Option<u32>,
    /// Give up on an attempt after this long
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Extra header sent with every delivery; repeatable (replaces all extra headers)
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Never send back events whose origin is this (loop guard for two-way sync)
    #[arg(long)]
    pub origin: Option<String>,
    /// Only this tenant's events
    #[arg(long)]
    pub tenant: Option<String>,
    /// Deliver each subject's events one at a time in acceptance order (subject, the default
    /// for new endpoints), or in no order for raw throughput (none)
    #[arg(long, value_name = "ORDER", value_parser = ordering_parser())]
    pub ordering: Option<DeliveryOrder>,
    /// How deliveries are signed: standard-webhooks (the default), standard-webhooks-v1a
    /// (Ed25519: receivers verify with the endpoint's public key), or for a receiver
    /// written before authhooks hmac-hex, hmac-sha256-prefixed, hmac-timestamped or
    /// hmac-iso-timestamped
    #[arg(long, value_name = "SCHEME", value_parser = scheme_parser())]
    pub signing: Option<Scheme>,
    /// With a compatibility scheme: the header the signature travels in (default
    /// x-webhook-signature)
    #[arg(long, requires = "signing", value_name = "NAME")]
    pub signature_header: Option<String>,
    /// With hmac-hex, hmac-sha256-prefixed or hmac-iso-timestamped: the header the
    /// timestamp travels in (default x-webhook-timestamp)
    #[arg(long, requires = "signing", value_name = "NAME")]
    pub timestamp_header: Option<String>,
    /// Send up to N events (2 to 100) in one POST, {"events": [...]}, for a receiver that
    /// takes batches
    #[arg(long, value_name = "N")]
    pub batch_max_events: Option<u32>,
    /// With --batch-max-events: how long a fresh event may wait for others to share its
    /// POST (default 1000)
    #[arg(long, requires = "batch_max_events", value_name = "MS")]
    pub batch_max_wait_ms: Option<u64>,
    /// A script reshaping each delivery before it is signed: JavaScript defining
    /// `function handler(webhook)` (docs/architecture.md §3.17)
    #[arg(long, value_name = "FILE")]
    pub transform: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// Where deliveries go
    #[arg(long)]
    pub url: String,
    /// Event types, comma-separated: exact (user.created), prefix (user.*) or * for all
    #[arg(long, required = true, value_delimiter = ',', value_name = "TYPES")]
    pub events: Vec<String>,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Signing secret to use (whsec_…); generated when absent
    #[arg(long, value_name = "WHSEC")]
    pub secret: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    pub id: String,
    #[arg(long)]
    pub url: Option<String>,
    /// Event types, comma-separated (replaces the current list)
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub events: Option<Vec<String>>,
    #[command(flatten)]
    pub fields: FieldArgs,
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    #[arg(long)]
    pub disable: bool,
    /// Remove the rate limit
    #[arg(long, conflicts_with_all = ["rate_rps", "rate_burst"])]
    pub no_rate_limit: bool,
    /// Send one event a POST again
    #[arg(long, conflicts_with = "batch_max_events")]
    pub no_batch: bool,
    /// Send events as they are again
    #[arg(long, conflicts_with = "transform")]
    pub no_transform: bool,
}

pub fn add_body(args: AddArgs) -> Result<Value, CliError> {
    if let Some(secret) = &args.secret {
        // Checked here so a typo fails before the request, and the message never echoes it.
        authhooks::domain::signature::Secret::parse(secret)
            .map_err(|e| CliError::usage(format!("--secret: {e}")))?;
    }
    let mut body = Map::new();
    body.insert("url".into(), json!(args.url));
    body.insert("event_types".into(), json!(args.events));
    put_fields(&mut body, &args.fields, false);
    put_transform(&mut body, &args.fields)?;
    if let Some(secret) = args.secret {
        body.insert("secret".into(), json!(secret));
    }
    Ok(Value::Object(body))
}

/// The transformation script read from its file, when one was given.
fn put_transform(body: &mut Map<String, Value>, fields: &FieldArgs) -> Result<(), CliError> {
    if let Some(path) = &fields.transform {
        let bytes = crate::input::read_input(path)?;
        let script = String::from_utf8(bytes).map_err(|_| {
            CliError::usage(format!("--transform: {} is not UTF-8 text", path.display()))
        })?;
        body.insert("transform".into(), json!(script));
    }
    Ok(())
}

/// Sets the optional fields that were given. In a patch an empty label means "clear it".
fn put_fields(body: &mut Map<String, Value>, fields: &FieldArgs, empty_clears: bool) {
    let labels = [
        ("description", &fields.description),
        ("origin", &fields.origin),
        ("tenant_id", &fields.tenant),
    ];
    for (name, value) in labels {
        match value.as_deref() {
            None => {}
            Some("") if empty_clears => {
                body.insert(name.into(), Value::Null);
            }
            Some(text) => {
                body.insert(name.into(), json!(text));
            }
        }
    }
    if let (Some(rps), Some(burst)) = (fields.rate_rps, fields.rate_burst) {
        let limit = json!({ "requests_per_second": rps, "burst_size": burst });
        body.insert("rate_limit".into(), limit);
    }
    if let Some(ms) = fields.timeout_ms {
        body.insert("timeout_ms".into(), json!(ms));
    }
    if let Some(order) = fields.ordering {
        body.insert("ordering".into(), json!(order.as_str()));
    }
    if let Some(scheme) = fields.signing {
        let mut signing = Map::new();
        signing.insert("scheme".into(), json!(scheme.name()));
        if let Some(name) = &fields.signature_header {
            signing.insert("signature_header".into(), json!(name));
        }
        if let Some(name) = &fields.timestamp_header {
            signing.insert("timestamp_header".into(), json!(name));
        }
        body.insert("signing".into(), Value::Object(signing));
    }
    if let Some(max_events) = fields.batch_max_events {
        let mut batch = Map::new();
        batch.insert("max_events".into(), json!(max_events));
        if let Some(ms) = fields.batch_max_wait_ms {
            batch.insert("max_wait_ms".into(), json!(ms));
        }
        body.insert("batch".into(), Value::Object(batch));
    }
    if !fields.headers.is_empty() {
        let headers: Map<String, Value> = fields
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect();
        body.insert("headers".into(), Value::Object(headers));
    }
}

pub fn patch_body(args: &UpdateArgs) -> Result<Value, CliError> {
    let mut body = Map::new();
    if let Some(url) = &args.url {
        body.insert("url".into(), json!(url));
    }
    if let Some(events) = &args.events {
        body.insert("event_types".into(), json!(events));
    }
    put_fields(&mut body, &args.fields, true);
    put_transform(&mut body, &args.fields)?;
    if args.no_transform {
        body.insert("transform".into(), Value::Null);
    }
    if args.enable || args.disable {
        body.insert("enabled".into(), json!(args.enable));
    }
    if args.no_rate_limit {
        body.insert("rate_limit".into(), Value::Null);
    }
    if args.no_batch {
        body.insert("batch".into(), Value::Null);
    }
    if body.is_empty() {
        return Err(CliError::usage(
            "nothing to update: give at least one field (see `authhooks endpoints update --help`)",
        ));
    }
    Ok(Value::Object(body))
}

/// The scheme names the server accepts, listed in `--help` and in the error for any other.
pub(crate) fn scheme_parser() -> impl TypedValueParser<Value = Scheme> {
    let names = Scheme::ALL.map(Scheme::name);
    PossibleValuesParser::new(names).try_map(|name| {
        Scheme::parse(&name).ok_or_else(|| format!("unknown signing scheme {name}"))
    })
}

/// The names the server accepts, listed in `--help` and in the error for any other.
fn ordering_parser() -> impl TypedValueParser<Value = DeliveryOrder> {
    let names = [DeliveryOrder::Subject, DeliveryOrder::None].map(DeliveryOrder::as_str);
    PossibleValuesParser::new(names).try_map(|name| DeliveryOrder::parse(&name))
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err("expected NAME=VALUE".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: &str) -> UpdateArgs {
        UpdateArgs {
            id: id.into(),
            url: None,
            events: None,
            fields: FieldArgs {
                description: Some(String::new()),
                rate_rps: None,
                rate_burst: None,
                timeout_ms: Some(5000),
                headers: vec![("x-team".into(), "cms".into())],
                origin: Some("payload".into()),
                tenant: None,
                ordering: Some(DeliveryOrder::None),
                signing: Some(Scheme::HmacIsoTimestamped),
                signature_header: Some("x-acme-signature".into()),
                timestamp_header: None,
                batch_max_events: Some(20),
                batch_max_wait_ms: None,
                transform: None,
            },
            enable: false,
            disable: true,
            no_rate_limit: true,
            no_batch: false,
            no_transform: false,
        }
    }

    #[test]
    fn patch_sends_only_given_fields_and_clears_empty_labels() {
        assert_eq!(
            patch_body(&update("ep_1")).unwrap(),
            json!({"description": null, "origin": "payload", "timeout_ms": 5000,
                   "headers": {"x-team": "cms"}, "enabled": false, "rate_limit": null,
                   "ordering": "none",
                   "signing": {"scheme": "hmac-iso-timestamped",
                               "signature_header": "x-acme-signature"},
                   "batch": {"max_events": 20}})
        );
        let mut off = update("ep_1");
        off.fields.batch_max_events = None;
        off.no_batch = true;
        assert_eq!(patch_body(&off).unwrap()["batch"], Value::Null);
    }

    #[test]
    fn empty_patch_is_a_usage_error() {
        let mut args = update("ep_1");
        args.fields = FieldArgs {
            description: None,
            rate_rps: None,
            rate_burst: None,
            timeout_ms: None,
            headers: vec![],
            origin: None,
            tenant: None,
            ordering: None,
            signing: None,
            signature_header: None,
            timestamp_header: None,
            batch_max_events: None,
            batch_max_wait_ms: None,
            transform: None,
        };
        args.disable = false;
        args.no_rate_limit = false;
        assert!(matches!(patch_body(&args), Err(CliError::Usage(_))));
    }

    #[test]
    fn headers_are_name_equals_value() {
        assert_eq!(
            parse_header("x-a=b=c"),
            Ok(("x-a".to_owned(), "b=c".to_owned()))
        );
        assert!(parse_header("novalue").is_err());
        assert!(parse_header("=v").is_err());
    }
}
