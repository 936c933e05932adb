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
        ("tenant_id", field(&view.tenant_id)),
        ("origin", field(&view.origin)),
        ("description", field(&view.description)),
        ("headers", headers(view)),
        ("timeout_ms", field(&view.timeout_ms)),
        ("rate_limit", rate_limit(view)),
        ("circuit", field(&view.circuit)),
        ("retry", field(&view.retry)),
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
        assert_eq!(list_rows(&view)[2], "user.*");
        assert_eq!(list_rows(&view)[4], "none");
    }
}
