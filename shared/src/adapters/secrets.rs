//! Secrets from AWS Secrets Manager — the ingest secret, the tenant portal's key — read once
//! per cold start: the template passes the secret's ARN, never its value, so the value is in
//! no function configuration, and a rotation reaches new instances without a deploy (or all
//! of them with one, by pinning the version id). Errors name the secret's ARN, never its
//! value or the SDK's types.

use sha2::{Digest, Sha256};

use crate::domain::portal::PortalKey;
use crate::domain::signature::Secret;

/// The shortest portal key secret accepted: 32 characters (`openssl rand -base64 32` gives 44).
const MIN_PORTAL_KEY_CHARS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretReadError {
    #[error("the secret {arn} could not be read: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error("the secret {arn} holds no SecretString (store the value as a plain string)")]
    NotAString { arn: String },
    #[error("the secret {arn} is no {what}: {reason}")]
    Invalid {
        arn: String,
        what: &'static str,
        reason: String,
    },
}

/// Reads `arn` (at `version_id` when given, else its current version) and parses its
/// plain-string value as a `whsec_` secret.
pub async fn read_ingest_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    version_id: Option<&str>,
) -> Result<Secret, SecretReadError> {
    let value = read_string(client, arn, version_id).await?;
    // SecretError's text names what is wrong (prefix, base64, length), not the value.
    Secret::parse(value.trim()).map_err(|e| SecretReadError::Invalid {
        arn: arn.to_owned(),
        what: "ingest secret",
        reason: e.to_string(),
    })
}

/// Reads the portal key secret `arn`: any string of 32 characters or more, whose SHA-256 is
/// the key (so any random string an operator generates will do).
pub async fn read_portal_key(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<PortalKey, SecretReadError> {
    let value = read_string(client, arn, None).await?;
    let value = value.trim();
    if value.chars().count() < MIN_PORTAL_KEY_CHARS {
        return Err(SecretReadError::Invalid {
            arn: arn.to_owned(),
            what: "portal key",
            reason: format!("it must be at least {MIN_PORTAL_KEY_CHARS} characters"),
        });
    }
    Ok(PortalKey::new(Sha256::digest(value.as_bytes()).into()))
}

async fn read_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    version_id: Option<&str>,
) -> Result<String, SecretReadError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| SecretReadError::Unreadable {
            arn: arn.to_owned(),
            // The service's code and message (AccessDenied, ResourceNotFound, ...): they
            // never carry the value.
            reason: crate::adapters::dynamodb::error::describe("GetSecretValue", &e),
        })?;
    output
        .secret_string()
        .map(str::to_owned)
        .ok_or_else(|| SecretReadError::NotAString {
            arn: arn.to_owned(),
        })
}
