//! How an endpoint (docs/architecture.md §3.2) reads in a terminal: one row in a list, or field by field.

use authhooks::wire::EndpointView;

use crate::output::field;

pub const LIST_HEADER: [&str; 6] = ["id", "url", "events", "enabled", "ordering", "description"];

pub fn list_rows(view: &EndpointView) -> Vec<String> {
    vec![
        field(&view.id),
        field(&view.url),
        field(&view.event_types),
        enabled(view),
        field(&view.ordering),
        field(&view.description),
    ]
}

pub fn view_rows(view: &EndpointView) -> Vec<(&'static str, String)> {
    vec![
        ("id", field(&view.id)),
        ("url", field(&view.url)),
        ("event_types", field(&view.event_types)),
        ("enabled", enabled(view)),
        ("ordering", field(&view.ordering)),
        ("signing", signing(view)),
        ("public_keys", public_keys(view)),
        ("tenant_id", field(&view.tenant_id)),
        ("origin", field(&view.origin)),
        ("description", field(&view.description)),
        ("headers", headers(view)),
        ("timeout_ms", field(&view.timeout_ms)),
        ("rate_limit", rate_limit(view)),
        ("circuit", field(&view.circuit)),
        ("retry", field(&view.retry)),
        ("batch", batch(view)),
        ("transform", transform(view)),
        ("created_at", field(&view.created_at)),
        ("updated_at", field(&view.updated_at)),
    ]
}

fn enabled(view: &EndpointView) -> String {
    match (view.enabled, &view.disabled_reason) {
        (true, _) => "yes".into(),
        (false, Some(reason)) => format!("no ({reason})"),
        (false, None) => "no".into(),
    }
}

fn transform(view: &EndpointView) -> String {
    match &view.transform {
        Some(script) => format!(
            "{} lines of JavaScript (--json shows them)",
            script.lines().count()
        ),
        None => "-".into(),
    }
}

fn batch(view: &EndpointView) -> String {
    match view.batch {
        Some(b) => format!(
            "up to {} events a POST, waiting up to {} ms",
            b.max_events, b.max_wait_ms
        ),
        None => "-".into(),
    }
}

fn headers(view: &EndpointView) -> String {
    if view.headers.is_empty() {
        return "-".into();
    }
    view.headers
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn signing(view: &EndpointView) -> String {
    let signing = &view.signing;
    let mut text = signing.scheme.name().to_owned();
    if signing.scheme.names_its_headers() {
        text.push_str(&format!(" (signature in {}", signing.signature_header()));
        if let Some(name) = signing.timestamp_header() {
            text.push_str(&format!(", timestamp in {name}"));
        }
        text.push(')');
    }
    text
}

/// A v1a endpoint's keys, newest first, with the end of a rotated-out one's grace.
fn public_keys(view: &EndpointView) -> String {
    if view.public_keys.is_empty() {
        return "-".into();
    }
    view.public_keys
        .iter()
        .map(|k| match k.expires_at {
            Some(at) => format!("{} (until {})", k.key.expose(), field(&at)),
            None => k.key.expose(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn rate_limit(view: &EndpointView) -> String {
    match &view.rate_limit {
        Some(limit) => format!(
            "{}/s, burst {}",
            field(&limit.requests_per_second),
            field(&limit.burst_size)
        ),
        None => "unlimited".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_endpoint_reads_field_by_field() {
        let view: EndpointView = serde_json::from_value(json!({
            "id": "ep_1", "url": "https://cms.example.com/hook", "event_types": ["user.*"],
            "tenant_id": null, "origin": null, "description": null, "timeout_ms": 15000,
            "enabled": false, "disabled_reason": "circuit open for 5 days",
            "headers": {"x-team": "cms"}, "rate_limit": {"requests_per_second": 10.0, "burst_size": 20},
            "circuit": {"failure_threshold": 5, "success_threshold": 2, "open_timeout_secs": 60,
                        "half_open_max_requests": 3},
            "retry": {"schedule_secs": [5]}, "ordering": "none",
            "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z",
        }))
        .unwrap();
        let rows = view_rows(&view);
        let get = |k: &str| rows.iter().find(|(f, _)| *f == k).unwrap().1.clone();
        assert_eq!(get("enabled"), "no (circuit open for 5 days)");
        assert_eq!(get("headers"), "x-team=cms");
        assert_eq!(get("rate_limit"), "10.0/s, burst 20");
        assert_eq!(get("tenant_id"), "-");
        assert_eq!(get("ordering"), "none");
        assert_eq!(get("signing"), "standard-webhooks");
        assert_eq!(get("public_keys"), "-");
        assert_eq!(list_rows(&view)[2], "user.*");
        assert_eq!(list_rows(&view)[4], "none");
    }

    #[test]
    fn the_signing_scheme_and_a_v1a_endpoints_keys_are_shown() {
        let mut base = json!({
            "id": "ep_1", "url": "https://cms.example.com/hook", "event_types": ["*"],
            "tenant_id": null, "origin": null, "description": null, "timeout_ms": 15000,
            "enabled": true, "disabled_reason": null, "headers": {}, "rate_limit": null,
            "circuit": {"failure_threshold": 5, "success_threshold": 2, "open_timeout_secs": 60,
                        "half_open_max_requests": 3},
            "retry": {"schedule_secs": [5]}, "ordering": "none",
            "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z",
        });
        let get = |body: &serde_json::Value, k: &str| {
            let view: EndpointView = serde_json::from_value(body.clone()).unwrap();
            view_rows(&view)
                .into_iter()
                .find(|(f, _)| *f == k)
                .unwrap()
                .1
        };
        base["signing"] = json!({"scheme": "standard-webhooks-v1a"});
        base["public_keys"] = json!([
            {"key": "whpk_//KK9tMx6ALE014f7zEqbFk681G0vdTf/085gokTSj4=", "expires_at": null},
            {"key": "whpk_//KK9tMx6ALE014f7zEqbFk681G0vdTf/085gokTSj4=",
             "expires_at": "2026-11-23T10:00:00Z"}
        ]);
        assert_eq!(get(&base, "signing"), "standard-webhooks-v1a");
        assert_eq!(
            get(&base, "public_keys"),
            "whpk_//KK9tMx6ALE014f7zEqbFk681G0vdTf/085gokTSj4=, \
             whpk_//KK9tMx6ALE014f7zEqbFk681G0vdTf/085gokTSj4= (until 2026-11-23T10:00:00Z)"
        );
        base["signing"] = json!({"scheme": "hmac-iso-timestamped",
                                 "signature_header": "x-acme-signature"});
        assert_eq!(
            get(&base, "signing"),
            "hmac-iso-timestamped (signature in x-acme-signature, timestamp in x-webhook-timestamp)"
        );
    }
}
