//! AWS Signature V4 for the admin API on AWS, whose Function URL authenticates with IAM:
//! requests to a `*.lambda-url.<region>.on.aws` URL without an admin token are signed with
//! the default credential chain (environment, profile, SSO, instance role), as the AWS CLI
//! would sign them. The signing itself is the AWS SDK's own `aws-sigv4`.

use std::time::SystemTime;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;

use crate::error::CliError;

/// Function URLs are signed for the `lambda` service.
const SERVICE: &str = "lambda";

/// The region of a Function URL (`<id>.lambda-url.<region>.on.aws`), if `url` is one.
pub fn function_url_region(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let mut labels = host.split('.');
    labels.find(|l| *l == "lambda-url")?;
    let region = labels.next()?;
    (host.ends_with(".on.aws") && !region.is_empty()).then(|| region.to_owned())
}

fn failed(reason: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("cannot sign the request for AWS IAM: {reason}"))
}

/// The default credential chain, for a process that signs many requests: it caches the
/// credentials and refreshes them before they expire.
pub async fn provider() -> Result<SharedCredentialsProvider, CliError> {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    config
        .credentials_provider()
        .ok_or_else(|| failed("no AWS credentials are configured"))
}

/// The current credentials of `provider`.
pub async fn identity_from(provider: &SharedCredentialsProvider) -> Result<Identity, CliError> {
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| failed(format!("no AWS credentials: {e}")))?;
    Ok(credentials.into())
}

/// Loads credentials from the default chain.
pub async fn identity() -> Result<Identity, CliError> {
    identity_from(&provider().await?).await
}

/// Adds the SigV4 headers (`authorization`, `x-amz-date`, and the session token when the
/// credentials have one) for `region` to a built request.
pub fn sign_request(
    request: &mut reqwest::Request,
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<(), CliError> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(failed)?
        .into();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or_default()
        .to_vec();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .map_err(failed)?;
    let (instructions, _) = sign(signable, &params).map_err(failed)?.into_parts();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(failed)?;
        let mut value = HeaderValue::from_str(value).map_err(failed)?;
        value.set_sensitive(true);
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    #[test]
    fn function_urls_name_their_region() {
        let url = Url::parse("https://abcdefgh.lambda-url.eu-west-1.on.aws/v1/endpoints").unwrap();
        assert_eq!(function_url_region(&url).as_deref(), Some("eu-west-1"));
        let local = Url::parse("http://127.0.0.1:8787/").unwrap();
        assert_eq!(function_url_region(&local), None);
        let lookalike = Url::parse("https://x.lambda-url.eu-west-1.example.com/").unwrap();
        assert_eq!(function_url_region(&lookalike), None);
    }

    #[test]
    fn requests_get_a_v4_signature_over_their_body() {
        let identity: Identity =
            Credentials::new("AKIDEXAMPLE", "secret", None, None, "test").into();
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_341_600);
        let client = reqwest::Client::new();
        let signed = |body: &str| {
            let mut request = client
                .post("https://abc.lambda-url.us-east-1.on.aws/v1/endpoints")
                .header("content-type", "application/json")
                .body(body.to_owned())
                .build()
                .unwrap();
            sign_request(&mut request, &identity, "us-east-1", time).unwrap();
            request.headers()["authorization"]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let a = signed("{\"url\":\"https://a.example\"}");
        assert!(
            a.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/lambda/aws4_request"
            ),
            "{a}"
        );
        // The same request signed by botocore's SigV4Auth (Python), an independent
        // implementation, at 2026-11-22T10:00:00Z.
        assert_eq!(
            a,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/lambda/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=986331ae28fa810176f46acd6b65811075fd291dbede0d048668625e068e7f3f"
        );
        assert_ne!(
            a,
            signed("{\"url\":\"https://b.example\"}"),
            "the body is signed"
        );
    }
}
