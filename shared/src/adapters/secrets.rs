//! The ingest secret from AWS Secrets Manager, read once per cold start: the template passes
//! the secret's ARN, never its value, so the value is in no function configuration, and a
//! rotation reaches new instances without a deploy (or all of them with one, by pinning
//! the version id). Errors name the secret's ARN, never its value or the SDK's types.

use crate::domain::signature::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretReadError {
    #[error("the secret {arn} could not be read: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error("the secret {arn} holds no SecretString (store the whsec_ value as a plain string)")]
    NotAString { arn: String },
    #[error("the secret {arn} is no ingest secret: {reason}")]
    Invalid { arn: String, reason: String },
}

/// Reads `arn` (at `version_id` when given, else its current version) and parses its
/// plain-string value as a `whsec_` secret.
pub async fn read_ingest_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    version_id: Option<&str>,
) -> Result<Secret, SecretReadError> {
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
    let value = output
        .secret_string()
        .ok_or_else(|| SecretReadError::NotAString {
            arn: arn.to_owned(),
        })?;
    // SecretError's text names what is wrong (prefix, base64, length), not the value.
    Secret::parse(value.trim()).map_err(|e| SecretReadError::Invalid {
        arn: arn.to_owned(),
        reason: e.to_string(),
    })
}
