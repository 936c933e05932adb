//! How the AWS SDKs' errors (DynamoDB and SQS alike) become `PortError`s: the one place that
//! decides what is worth retrying. Only the SDK's text crosses over, never its types.

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};

use crate::ports::PortError;

/// Codes that pass with time although their HTTP status is a 4xx: a conflicting transaction,
/// and credentials that expired in flight (the provider refreshes them).
const PASSING_CODES: &[&str] = &[
    "TransactionConflictException",
    "ReplicatedWriteConflictException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
];

/// Maps a failed SDK call. Throttling, 5xx, timeouts and network failures are `Unavailable`;
/// a request the service refused on its merits (validation, missing table, any other 4xx) or
/// could not even build is `Rejected`.
pub(crate) fn sdk_error<E>(operation: &str, err: SdkError<E>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = describe(operation, &err);
    match &err {
        SdkError::ConstructionFailure(_) => PortError::Rejected(message),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let passing = err.code().is_some_and(|code| {
                THROTTLING_ERRORS.contains(&code)
                    || TRANSIENT_ERRORS.contains(&code)
                    || PASSING_CODES.contains(&code)
            });
            if passing || status == 429 || status >= 500 {
                PortError::Unavailable(message)
            } else {
                PortError::Rejected(message)
            }
        }
        // Timeouts, dispatch failures (network, credentials) and unparseable answers.
        _ => PortError::Unavailable(message),
    }
}

/// The service's code and message, or the chain of causes of a failure that never got an
/// answer; the SDK's own Display adds a debug dump of the raw response.
pub(crate) fn describe<E>(operation: &str, err: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = err {
        return format!(
            "{operation}: {} (HTTP {}): {}",
            err.code().unwrap_or("unknown error"),
            service.raw().status().as_u16(),
            err.message().unwrap_or_default()
        );
    }
    let mut text = format!("{operation}: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Whether the call failed only because its condition expression did not hold.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && err.code() == Some("ConditionalCheckFailedException")
}

/// The result of a conditional write whose unmet condition means "nothing to do here" (the
/// item is someone else's now, or gone): `Ok` then; any other failure mapped as
/// [`sdk_error`] maps it.
pub(crate) fn unless_condition_failed<T, E>(
    operation: &str,
    result: Result<T, SdkError<E>>,
) -> Result<(), PortError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Err(err) if is_condition_failure(&err) => Ok(()),
        Err(err) => Err(sdk_error(operation, err)),
        Ok(_) => Ok(()),
    }
}

/// A request or type that could not be built: a missing required field.
pub(crate) fn build_error(err: BuildError) -> PortError {
    PortError::Rejected(format!("invalid request: {err}"))
}

/// A stored item that does not decode.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> PortError {
    PortError::Corrupt(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    fn service_error(status: u16, code: &str) -> PortError {
        let meta = ErrorMetadata::builder().code(code).message("oops").build();
        let raw = HttpResponse::new(status.try_into().unwrap(), "".into());
        sdk_error(
            "GetItem",
            SdkError::service_error(GetItemError::generic(meta), raw),
        )
    }

    #[test]
    fn throttling_and_server_errors_are_worth_retrying() {
        assert!(service_error(400, "ThrottlingException").is_retryable());
        assert!(service_error(400, "ProvisionedThroughputExceededException").is_retryable());
        assert!(service_error(400, "TransactionConflictException").is_retryable());
        assert!(service_error(500, "InternalServerError").is_retryable());
        assert!(service_error(503, "ServiceUnavailable").is_retryable());
        assert!(service_error(429, "Anything").is_retryable());
    }

    #[test]
    fn refusals_on_the_merits_are_rejected_with_the_services_words() {
        let err = service_error(400, "ValidationException");
        assert_eq!(
            err,
            PortError::Rejected("GetItem: ValidationException (HTTP 400): oops".into())
        );
        assert!(!service_error(400, "ResourceNotFoundException").is_retryable());
    }
}
