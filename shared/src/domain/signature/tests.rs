// Tests state their expectations with unwrap; the workspace lint is aimed at library code.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> SignedHeaders<'a> {
    SignedHeaders {
        id,
        timestamp,
        signature,
    }
}

fn secret(s: &str) -> Secret {
    Secret::parse(s).unwrap()
}

/// Known answers. The first is the Standard Webhooks project's published test vector; the
/// others were produced with the independent Python reference (`pip install
/// standardwebhooks`): `Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts,
/// tz=timezone.utc), body)`.
const VECTORS: &[(&str, &str, i64, &str, &str)] = &[
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        r#"{"test": 2432232314}"#,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ),
    (
        // bytes 0..32
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "evt_01JDXYZ",
        1_764_000_000,
        r#"{"type":"user.created","data":{"user":{"id":"u_1"}}}"#,
        "v1,EXtcNpOXfrePPGeOVrNl1O5Cdlnd6MaSNu2ABuNj7jU=",
    ),
    (
        // 24 bytes of 0xab, non-ASCII body
        "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur",
        "msg_2",
        1_700_000_000,
        r#"{"name":"Zoë ✓"}"#,
        "v1,lLCrI2ik/eKyzcLvgHRbCQTk+nrTTRq5N8poC9y9vec=",
    ),
    (
        // bytes 0..64 (the block size), empty body
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
        "evt_x",
        1_893_456_000,
        "",
        "v1,RDfF9oBv5PKLfuEKmgPXJZZ5yS2ogShbIxh8zM6BgHc=",
    ),
];

#[test]
fn known_answer_vectors_sign_and_verify() {
    for &(key, id, ts, body, expected) in VECTORS {
        let s = secret(key);
        assert_eq!(sign(&s, id, ts, body.as_bytes()), expected, "vector {id}");
        let ts_str = ts.to_string();
        let h = headers(id, &ts_str, expected);
        assert_eq!(
            verify([&s], &h, body.as_bytes(), ts, DEFAULT_TOLERANCE_SECS),
            Ok(())
        );
    }
}

#[test]
fn hmac_key_matches_the_library_key_schedule() {
    for len in 0..=130usize {
        let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let mut ours = <HmacSha256 as KeyInit>::new(&hmac_key(&key));
        let mut theirs = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
        ours.update(b"message");
        theirs.update(b"message");
        assert_eq!(
            ours.finalize().into_bytes(),
            theirs.finalize().into_bytes(),
            "len {len}"
        );
    }
}

#[test]
fn header_has_one_entry_per_secret_and_either_secret_verifies() {
    let old = Secret::generate([1; 32]);
    let new = Secret::generate([2; 32]);
    let body = br#"{"a":1}"#;
    let header = signature_header([&old, &new], "evt_1", 1_000, body);
    let entries: Vec<&str> = header.split(' ').collect();
    assert_eq!(
        entries,
        [
            sign(&old, "evt_1", 1_000, body),
            sign(&new, "evt_1", 1_000, body)
        ]
    );
    let h = headers("evt_1", "1000", &header);
    assert_eq!(verify([&old], &h, body, 1_000, 300), Ok(()));
    assert_eq!(verify([&new], &h, body, 1_000, 300), Ok(()));
    let other = Secret::generate([3; 32]);
    assert_eq!(
        verify([&other], &h, body, 1_000, 300),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(signature_header([], "evt_1", 1_000, body), "");
}

#[test]
fn timestamps_outside_the_window_are_refused_at_its_edges() {
    let s = Secret::generate([9; 32]);
    let sig = sign(&s, "id", 10_000, b"x");
    let h = headers("id", "10000", &sig);
    assert_eq!(verify([&s], &h, b"x", 10_300, 300), Ok(()));
    assert_eq!(verify([&s], &h, b"x", 9_700, 300), Ok(()));
    assert_eq!(
        verify([&s], &h, b"x", 10_301, 300),
        Err(VerifyError::TimestampTooOld {
            age_secs: 301,
            tolerance_secs: 300
        })
    );
    assert_eq!(
        verify([&s], &h, b"x", 9_699, 300),
        Err(VerifyError::TimestampTooNew {
            ahead_secs: 301,
            tolerance_secs: 300
        })
    );
    // The window is checked before the signature, even a wrong one.
    let wrong = headers("id", "10000", "v1,AAAA");
    assert!(matches!(
        verify([&s], &wrong, b"x", 20_000, 300),
        Err(VerifyError::TimestampTooOld { .. })
    ));
}

#[test]
fn malformed_timestamps_are_invalid() {
    let s = Secret::generate([9; 32]);
    for ts in [
        "",
        "abc",
        "+100",
        "-100",
        " 100",
        "100 ",
        "1.5",
        "1e3",
        "99999999999999999999",
    ] {
        assert_eq!(
            verify([&s], &headers("id", ts, "v1,AAAA"), b"", 100, 300),
            Err(VerifyError::InvalidTimestamp),
            "{ts:?}"
        );
    }
    // Huge but valid values must not overflow the window arithmetic.
    let max = i64::MAX.to_string();
    assert!(matches!(
        verify([&s], &headers("id", &max, "v1,AAAA"), b"", i64::MIN, 300),
        Err(VerifyError::TimestampTooNew { .. })
    ));
}

#[test]
fn other_versions_and_undecodable_entries_are_skipped() {
    let s = Secret::generate([5; 32]);
    let good = sign(&s, "id", 50, b"body");
    let encoded = good.trim_start_matches("v1,");
    let header = format!("v1a,{encoded} v2,{encoded} v1,!!!notbase64 garbage  {good}");
    assert_eq!(
        verify([&s], &headers("id", "50", &header), b"body", 50, 300),
        Ok(())
    );
    let without = format!("v1a,{encoded} v1,!!! v1, nocomma");
    assert_eq!(
        verify([&s], &headers("id", "50", &without), b"body", 50, 300),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        verify([&s], &headers("id", "50", ""), b"body", 50, 300),
        Err(VerifyError::NoMatchingSignature)
    );
    // A truncated MAC is not a prefix match.
    let short = format!(
        "v1,{}",
        STANDARD.encode(&LENIENT_BASE64.decode(encoded).unwrap()[..16])
    );
    assert_eq!(
        verify([&s], &headers("id", "50", &short), b"body", 50, 300),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        verify([], &headers("id", "50", &good), b"body", 50, 300),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn debug_and_errors_never_show_the_secret() {
    let raw = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let s = secret(raw);
    let shown = format!("{s:?} {s:#?}");
    assert!(!shown.contains("MfKQ9r8G"), "{shown}");
    assert!(shown.contains("***"));
    let sig = sign(&s, "id", 1, b"b");
    let err = verify([&s], &headers("id", "1", "v1,AAAA"), b"b", 1, 300).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(&sig[3..]) && !text.contains("MfKQ9r8G"),
        "{text}"
    );
    let bad = Secret::parse("whsec_MfKQ9r8G!KYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err();
    assert!(!bad.to_string().contains("MfKQ9r8G"));
}

#[test]
fn secret_errors_name_the_rule() {
    assert_eq!(
        Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        Err(SecretError::MissingPrefix)
    );
    assert_eq!(
        Secret::parse("whsec_not base64!"),
        Err(SecretError::NotBase64)
    );
    let short = format!("whsec_{}", STANDARD.encode([0u8; 23]));
    assert_eq!(
        Secret::parse(&short),
        Err(SecretError::WrongLength { len: 23 })
    );
    let long = format!("whsec_{}", STANDARD.encode([0u8; 65]));
    assert_eq!(
        Secret::parse(&long),
        Err(SecretError::WrongLength { len: 65 })
    );
    assert_eq!(
        Secret::parse("whsec_"),
        Err(SecretError::WrongLength { len: 0 })
    );
    assert!(SecretError::MissingPrefix.to_string().contains("whsec_"));
    assert!(SecretError::NotBase64.to_string().contains("base64"));
    let msg = SecretError::WrongLength { len: 23 }.to_string();
    assert!(
        msg.contains("24") && msg.contains("64") && msg.contains("23"),
        "{msg}"
    );
    assert_eq!(
        Secret::from_bytes(vec![1; 24]).map(|s| s.bytes.len()),
        Ok(24)
    );
    assert_eq!(
        Secret::from_bytes(vec![1; 64]).map(|s| s.bytes.len()),
        Ok(64)
    );
    assert!(Secret::from_bytes(vec![1; 65]).is_err());
}

#[test]
fn padding_is_optional_and_expose_round_trips() {
    let padded = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let unpadded = padded.trim_end_matches('=');
    assert_eq!(secret(padded), secret(unpadded));
    assert_eq!(secret(unpadded).expose(), padded);
    let generated = Secret::generate([7; 32]);
    assert_eq!(secret(&generated.expose()), generated);
    assert_ne!(generated, Secret::generate([8; 32]));
    assert_ne!(generated, Secret::from_bytes(vec![7; 33]).unwrap());
}

#[test]
fn serde_uses_the_whsec_string() {
    let s = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, r#""whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw""#);
    assert_eq!(serde_json::from_str::<Secret>(&json).unwrap(), s);
    let err = serde_json::from_str::<Secret>(r#""nope""#).unwrap_err();
    assert!(err.to_string().contains("whsec_"), "{err}");
    assert!(serde_json::from_str::<Secret>("42").is_err());
}

fn flip(value: &str, index: usize, replacement: u8) -> Option<String> {
    let mut bytes = value.as_bytes().to_vec();
    let i = index % bytes.len();
    if bytes[i] == replacement {
        return None;
    }
    bytes[i] = replacement;
    String::from_utf8(bytes).ok()
}

proptest! {
    #[test]
    fn signatures_verify_and_any_tampering_fails(
        key in proptest::collection::vec(any::<u8>(), MIN_SECRET_BYTES..=MAX_SECRET_BYTES),
        id in "[ -~]{1,40}",
        ts in 1i64..4_000_000_000,
        body in proptest::collection::vec(any::<u8>(), 0..200),
        index in any::<usize>(),
        ascii in 0x20u8..0x7f,
        xor in 1u8..=255,
    ) {
        let s = Secret::from_bytes(key).unwrap();
        let sig = signature_header([&s], &id, ts, &body);
        let ts_str = ts.to_string();
        prop_assert_eq!(verify([&s], &headers(&id, &ts_str, &sig), &body, ts, 300), Ok(()));

        if let Some(bad_id) = flip(&id, index, ascii) {
            prop_assert!(verify([&s], &headers(&bad_id, &ts_str, &sig), &body, ts, 300).is_err());
        }
        if let Some(bad_ts) = flip(&ts_str, index, ascii) {
            prop_assert!(verify([&s], &headers(&id, &bad_ts, &sig), &body, ts, 300).is_err());
        }
        if !body.is_empty() {
            let mut bad_body = body.clone();
            bad_body[index % body.len()] ^= xor;
            prop_assert!(verify([&s], &headers(&id, &ts_str, &sig), &bad_body, ts, 300).is_err());
        }
    }
}
