//! How an endpoint (docs/architecture.md §3.2) reads in a terminal: one row in a list, or field by field.

use serde_json::Value;

use crate::output::cell;

pub const LIST_HEADER: [&str; 5] = ["id", "url", "events", "enabled", "description"];

pub fn list_rows(view: &Value) -> Vec<String> {
    vec![
        cell(view.get("id")),
        cell(view.get("url")),
        cell(view.get("event_types")),
        enabled(view),
        cell(view.get("description")),
    ]
}

pub fn view_rows(view: &Value) -> Vec<(&'static str, String)> {
    let field = |name: &str| cell(view.get(name));
    vec![
        ("id", field("id")),
        ("url", field("url")),
        ("event_types", field("event_types")),
        ("enabled", enabled(view)),
        ("tenant_id", field("tenant_id")),
        ("origin", field("origin")),
        ("description", field("description")),
        ("headers", headers(view)),
        ("timeout_ms", field("timeout_ms")),
        ("rate_limit", rate_limit(view)),
        ("circuit", field("circuit")),
        ("retry", field("retry")),
        ("created_at", field("created_at")),
        ("updated_at", field("updated_at")),
    ]
}

fn enabled(view: &Value) -> String {
    match (
        view.get("enabled").and_then(Value::as_bool),
        view.get("disabled_reason"),
    ) {
        (Some(true), _) => "yes".into(),
        (Some(false), Some(Value::String(reason))) => format!("no ({reason})"),
        (Some(false), _) => "no".into(),
        (None, _) => "-".into(),
    }
}

fn headers(view: &Value) -> String {
    match view.get("headers").and_then(Value::as_object) {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(name, value)| format!("{name}={}", cell(Some(value))))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".into(),
    }
}

fn rate_limit(view: &Value) -> String {
    match view.get("rate_limit") {
        Some(Value::Object(limit)) => format!(
            "{}/s, burst {}",
            cell(limit.get("requests_per_second")),
            cell(limit.get("burst_size"))
        ),
        _ => "unlimited".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_endpoint_reads_field_by_field() {
        let view = json!({
            "id": "ep_1", "url": "https://cms.example.com/hook", "event_types": ["user.*"],
            "enabled": false, "disabled_reason": "circuit open for 5 days",
            "headers": {"x-team": "cms"}, "rate_limit": {"requests_per_second": 10.0, "burst_size": 20},
        });
        let rows = view_rows(&view);
        let get = |k: &str| rows.iter().find(|(f, _)| *f == k).unwrap().1.clone();
        assert_eq!(get("enabled"), "no (circuit open for 5 days)");
        assert_eq!(get("headers"), "x-team=cms");
        assert_eq!(get("rate_limit"), "10.0/s, burst 20");
        assert_eq!(get("tenant_id"), "-");
        assert_eq!(list_rows(&view)[2], "user.*");
    }
}
