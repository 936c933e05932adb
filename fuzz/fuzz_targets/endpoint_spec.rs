//! `parse_new` and `apply_patch` on arbitrary JSON under the deployment policy: never
//! panic, and an accepted endpoint's URL passes the same policy again.
#![no_main]

use authhooks::domain::endpoint::{EndpointUrl, UrlPolicy};
use authhooks::domain::endpoint_spec::{apply_patch, parse_new};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let policy = UrlPolicy {
        allow_http: false,
        allow_private: false,
    };
    let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    if let Ok((endpoint, _)) = parse_new(&body, &policy, now, &mut || 1, [9; 32]) {
        assert!(EndpointUrl::parse(endpoint.url.as_str(), &policy).is_ok());
        assert!(!endpoint.event_types.is_empty());
        // The same body as a patch: only `secret` may make it fail.
        let patched = apply_patch(&endpoint, &body, &policy, now);
        assert!(patched.is_ok() || body.get("secret").is_some(), "{body}");
    }
});
