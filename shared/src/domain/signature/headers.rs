//! The Standard Webhooks header names, and the two ends of them: the `(name, value)` pairs a
//! sender attaches and the [`SignedHeaders`] a receiver reads back.

use super::{signature_header, Secret, SignedHeaders};

/// `webhook-id`: the message id, stable across retries.
pub const HEADER_WEBHOOK_ID: &str = "webhook-id";
/// `webhook-timestamp`: unix seconds of this attempt.
pub const HEADER_WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// `webhook-signature`: space-separated `v1,<base64>` entries.
pub const HEADER_WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// `webhook-attempt`: authhooks' own addition, the 1-based attempt number of a delivery.
pub const HEADER_WEBHOOK_ATTEMPT: &str = "webhook-attempt";

/// The three headers that sign `body` as message `msg_id` at `timestamp`, one signature
/// entry per secret, in the order the standard lists them.
pub fn sign_headers<'a>(
    secrets: impl IntoIterator<Item = &'a Secret>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        (HEADER_WEBHOOK_ID, msg_id.to_owned()),
        (HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (
            HEADER_WEBHOOK_SIGNATURE,
            signature_header(secrets, msg_id, timestamp, body),
        ),
    ]
}

impl<'a> SignedHeaders<'a> {
    /// Reads the three headers through `lookup`, which answers a header name with its value
    /// or the caller's own error (a missing header is refused in ingest, read as empty by
    /// `authhooks listen`), so every HTTP stack reads them by the same names.
    pub fn from_lookup<E>(
        mut lookup: impl FnMut(&'static str) -> Result<&'a str, E>,
    ) -> Result<SignedHeaders<'a>, E> {
        Ok(SignedHeaders {
            id: lookup(HEADER_WEBHOOK_ID)?,
            timestamp: lookup(HEADER_WEBHOOK_TIMESTAMP)?,
            signature: lookup(HEADER_WEBHOOK_SIGNATURE)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{verify, VerifyError};
    use super::*;

    #[test]
    fn signed_pairs_read_back_and_verify() {
        let secret = Secret::generate([9; 32]);
        let body = br#"{"a":1}"#;
        let pairs = sign_headers([&secret], "msg_1", 1_000, body);
        let names: Vec<&str> = pairs.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| value.as_str())
                .ok_or(name.to_owned())
        };
        let read = SignedHeaders::from_lookup(lookup).unwrap();
        assert_eq!(read.id, "msg_1");
        assert_eq!(read.timestamp, "1000");
        assert_eq!(verify([&secret], &read, body, 1_000, 300), Ok(()));
        assert_eq!(
            verify([&secret], &read, b"{}", 1_000, 300),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_failed_lookup_is_the_callers_error() {
        let missing = SignedHeaders::from_lookup(|name| match name {
            HEADER_WEBHOOK_ID => Ok("msg_1"),
            other => Err(other),
        });
        assert_eq!(missing, Err(HEADER_WEBHOOK_TIMESTAMP));
    }
}
