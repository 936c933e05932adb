//! Sign a message, then change one thing about it: it verifies if and only if nothing
//! signed changed (id, timestamp, body, MAC).
#![no_main]

use authhooks::domain::signature::{sign, verify, Secret, SignedHeaders};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, arbitrary::Arbitrary)]
enum Mutation {
    None,
    Id { at: usize, byte: u8 },
    Body { at: usize, byte: u8 },
    AppendBody(u8),
    TruncateBody(usize),
    Timestamp(i8),
    FlipMacBit(u16),
    OtherSecret([u8; 32]),
}

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    id: String,
    offset: i16,
    body: Vec<u8>,
    mutation: Mutation,
}

fn set(bytes: &mut Vec<u8>, at: usize, byte: u8) {
    if !bytes.is_empty() {
        let at = at % bytes.len();
        bytes[at] = byte;
    }
}

fuzz_target!(|input: Input| {
    let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let now = 1_795_000_000i64;
    // Within the 300 s tolerance, so only the mutation decides.
    let ts = now + i64::from(input.offset) % 300;
    let signature = sign(&secret, &input.id, ts, &input.body);

    let (mut id, mut ts2, mut body) = (input.id.clone().into_bytes(), ts, input.body.clone());
    let mut sig = signature.clone();
    match input.mutation {
        Mutation::None => {}
        Mutation::Id { at, byte } => set(&mut id, at, byte),
        Mutation::Body { at, byte } => set(&mut body, at, byte),
        Mutation::AppendBody(byte) => body.push(byte),
        Mutation::TruncateBody(n) => body.truncate(n),
        Mutation::Timestamp(delta) => ts2 += i64::from(delta),
        Mutation::FlipMacBit(bit) => {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD;
            let mut mac = engine.decode(&signature[3..]).unwrap();
            let bit = usize::from(bit) % (mac.len() * 8);
            mac[bit / 8] ^= 1 << (bit % 8);
            sig = format!("v1,{}", engine.encode(mac));
        }
        Mutation::OtherSecret(bytes) => {
            sig = sign(&Secret::generate(bytes), &input.id, ts, &input.body);
        }
    }
    let Ok(id) = String::from_utf8(id) else {
        return; // header values are strings; a non-UTF-8 id cannot arrive
    };
    let ts_text = ts2.to_string();
    let headers = SignedHeaders {
        id: &id,
        timestamp: &ts_text,
        signature: &sig,
    };
    let verified = verify([&secret], &headers, &body, now, 300).is_ok();
    let unchanged = id == input.id && ts2 == ts && body == input.body && sig == signature;
    // A different secret can only collide by HMAC-SHA256 collision.
    assert_eq!(verified, unchanged, "{input:?}");
});
