//! The Lambda functions' logs with every target at `trace` (the AWS SDK, hyper, reqwest...),
//! over moto: the cold start (configuration, the SDK's credential chain), a refused and an
//! accepted ingest, a delivery answered 500, its dead letter and failure record, a secret
//! rotation; and the errors of the adapters. No line and no error text carries a secret, a
//! signature, the admin token, a response snippet or the payload.

#[path = "log_capture/capture.rs"]
mod capture;
#[path = "log_capture/errors.rs"]
mod errors;
#[path = "log_capture/lambda.rs"]
mod lambda;
