//! `verify` on arbitrary headers and body: never panics, and never accepts, since nothing
//! here knows the secret.
#![no_main]

use authhooks::domain::signature::{verify, Secret, SignedHeaders};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, arbitrary::Arbitrary)]
struct Input<'a> {
    id: &'a str,
    timestamp: &'a str,
    signature: &'a str,
    now: i64,
    tolerance: i64,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let headers = SignedHeaders {
        id: input.id,
        timestamp: input.timestamp,
        signature: input.signature,
    };
    let result = verify([&secret], &headers, input.body, input.now, input.tolerance);
    assert!(result.is_err(), "forged signature accepted: {input:?}");
});
