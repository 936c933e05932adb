//! Reading the JSON answers tests get: one field of every item of a list, and the fields a
//! problem+json names.

use serde_json::Value;

/// `field` of each item of a `{"items": [...]}` answer, in order.
pub fn each(list: &Value, field: &str) -> Vec<Value> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[field].clone())
        .collect()
}

/// The `field` of each of a problem's `errors`, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}
