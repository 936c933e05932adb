//! Error answers as the user reads them: RFC 9457 problem+json (`detail`, or `title`, and
//! the `errors` list of `field: message`), or a short quote of anything else.

use authhooks::wire::ProblemBody;
use reqwest::StatusCode;

use crate::error::CliError;

/// How much of a non-problem error body to quote: enough to recognise, never a page.
const SNIPPET_CHARS: usize = 200;

/// An error answer: RFC 9457 problem+json when the server speaks it, else a short quote.
pub fn problem(status: StatusCode, body: &[u8], unauthorized_hint: &'static str) -> CliError {
    let parsed: Option<ProblemBody> = serde_json::from_slice(body).ok();
    let nonblank = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let message = parsed
        .as_ref()
        .and_then(|p| nonblank(&p.detail).or_else(|| nonblank(&p.title)))
        .unwrap_or_else(|| fallback_message(status, body));
    let errors = parsed
        .map(|p| p.errors.into_iter().map(|e| (e.field, e.message)).collect())
        .unwrap_or_default();
    CliError::Api {
        status: status.as_u16(),
        message,
        errors,
        hint: (status == StatusCode::UNAUTHORIZED).then_some(unauthorized_hint),
    }
}

fn fallback_message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let snippet: String = words.join(" ").chars().take(SNIPPET_CHARS).collect();
    match (status.canonical_reason(), snippet.is_empty()) {
        (Some(reason), true) => reason.to_owned(),
        (Some(reason), false) => format!("{reason}: {snippet}"),
        (None, _) => snippet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_gives_detail_and_fields() {
        let body = br#"{"type":"about:blank","title":"Unprocessable","status":422,
            "detail":"the endpoint is invalid","errors":[{"field":"url","message":"must use https"}]}"#;
        let err = problem(StatusCode::UNPROCESSABLE_ENTITY, body, "hint");
        assert_eq!(
            err.to_string(),
            "the endpoint is invalid (HTTP 422): url: must use https"
        );
    }

    #[test]
    fn plain_bodies_are_quoted_briefly_on_one_line() {
        let body = format!("<html>\n<h1>Bad\ngateway</h1>{}</html>", "x".repeat(500));
        let err = problem(StatusCode::BAD_GATEWAY, body.as_bytes(), "hint");
        let text = err.to_string();
        assert!(text.starts_with("Bad Gateway: <html> <h1>Bad gateway</h1>"));
        assert!(!text.contains('\n'));
        assert!(text.len() < 300);
    }
}
