//! An endpoint's transformation (docs/architecture.md §3.17): a script that reshapes each
//! delivery for a receiver that wants another body or extra headers, or drops it, before
//! it is signed. What the script is given, and what its answer may be.

use serde_json::{Map, Value};

use super::endpoint::{Endpoint, ExtraHeaders};
use super::event::Event;
use super::signature::Signing;

/// What a transformation made of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shaped {
    /// Send this body, with these headers beside the endpoint's own.
    Send {
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    },
    /// Send nothing: the delivery is done.
    Cancel,
}

/// The script's `webhook`: `{"event_type", "payload": <the body as it would be sent>,
/// "endpoint": {"id", "url"}}`, with the body's own text as `payload` (it is JSON already:
/// no parse and re-serialization on the delivery's path).
pub fn input(event: &Event, endpoint: &Endpoint) -> String {
    let body = event.to_body();
    let text = |s: &str| Value::String(s.to_owned()).to_string();
    format!(
        r#"{{"event_type":{},"payload":{},"endpoint":{{"id":{},"url":{}}}}}"#,
        text(event.event_type.as_str()),
        String::from_utf8_lossy(&body),
        text(endpoint.id.as_str()),
        text(endpoint.url.as_str()),
    )
}

/// Reads the handler's answer: the `webhook` object back, with `payload` (any JSON: the new
/// body), optionally `headers` (extra headers, held to an endpoint's extra-header rules and
/// never one its signing scheme sends) and `cancel: true` to send nothing.
pub fn shaped(output: Option<&str>, signing: &Signing) -> Result<Shaped, String> {
    let Some(output) = output else {
        return Err("the handler must return the webhook object (or set `cancel: true`)".into());
    };
    let value: Value = serde_json::from_str(output).map_err(|e| e.to_string())?;
    let Value::Object(webhook) = value else {
        return Err("the handler must return the webhook object".into());
    };
    match webhook.get("cancel") {
        None | Some(Value::Bool(false)) | Some(Value::Null) => {}
        Some(Value::Bool(true)) => return Ok(Shaped::Cancel),
        Some(_) => return Err("`cancel` must be true or false".into()),
    }
    let body = match webhook.get("payload") {
        Some(payload) => payload.to_string().into_bytes(),
        None => return Err("the webhook object has no `payload`".into()),
    };
    Ok(Shaped::Send {
        body,
        headers: headers(&webhook, signing)?,
    })
}

fn headers(
    webhook: &Map<String, Value>,
    signing: &Signing,
) -> Result<Vec<(String, String)>, String> {
    let Some(given) = webhook.get("headers").filter(|h| !h.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Object(given) = given else {
        return Err("`headers` must be an object of strings".into());
    };
    let mut pairs = Vec::with_capacity(given.len());
    for (name, value) in given {
        let Value::String(value) = value else {
            return Err(format!("header {name:?} must be a string"));
        };
        pairs.push((name.as_str(), value.as_str()));
    }
    let checked = ExtraHeaders::validate(pairs, "headers").map_err(|errors| {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        parts.join("; ")
    })?;
    let signed = signing.header_names();
    if let Some((name, _)) = checked.iter().find(|(name, _)| signed.contains(name)) {
        return Err(format!(
            "headers.{name}: is sent by the {} signing scheme",
            signing.scheme.name()
        ));
    }
    Ok(checked
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::signature::Scheme;

    #[test]
    fn the_answer_gives_a_body_headers_or_a_cancel() {
        let signing = Signing::default();
        assert_eq!(
            shaped(
                Some(r#"{"payload":{"text":"hi"},"headers":{"X-Team":"cms"}}"#),
                &signing
            ),
            Ok(Shaped::Send {
                body: br#"{"text":"hi"}"#.to_vec(),
                headers: vec![("x-team".into(), "cms".into())]
            })
        );
        assert_eq!(
            shaped(Some(r#"{"cancel":true}"#), &signing),
            Ok(Shaped::Cancel)
        );
        for bad in [
            None,
            Some("3"),
            Some("{}"),
            Some(r#"{"cancel":"yes"}"#),
            Some(r#"{"payload":1,"headers":{"webhook-signature":"x"}}"#),
            Some(r#"{"payload":1,"headers":{"content-type":"text/plain"}}"#),
            Some(r#"{"payload":1,"headers":{"x-a":"b\nc"}}"#),
            Some(r#"{"payload":1,"headers":{"x-a":1}}"#),
        ] {
            assert!(shaped(bad, &signing).is_err(), "{bad:?}");
        }
        // A header the endpoint's compatibility scheme sends is refused too.
        let hex = Signing::new(Scheme::HmacHex);
        let err = shaped(
            Some(r#"{"payload":1,"headers":{"x-webhook-signature":"forged"}}"#),
            &hex,
        )
        .unwrap_err();
        assert!(err.contains("signing scheme"), "{err}");
    }
}
