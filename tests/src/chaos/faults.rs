//! The fault plan: which answer a receiver gives to one attempt, decided from the seed, the
//! endpoint, the webhook id and the attempt number alone, so a run is repeatable and the
//! deliveries that must end as failures are known in advance.

/// What a receiver does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 200 at once.
    None,
    /// 200, with the body dripped out slowly: still delivered.
    SlowBody,
    /// 500.
    ServerError,
    /// 429 with `Retry-After: 1`.
    TooMany,
    /// Answers only after the endpoint's timeout has passed (503, to a caller long gone).
    Timeout,
    /// Reads the request, then resets the connection (RST) without answering.
    Reset,
    /// A signature that does not verify: 401 (must never happen).
    BadSignature,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::None,
        Fault::SlowBody,
        Fault::ServerError,
        Fault::TooMany,
        Fault::Timeout,
        Fault::Reset,
        Fault::BadSignature,
    ];

    /// Whether the receiver answers 2xx, i.e. counts the webhook as received.
    pub fn is_success(self) -> bool {
        matches!(self, Fault::None | Fault::SlowBody)
    }

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "ok",
            Fault::SlowBody => "slow-body",
            Fault::ServerError => "5xx",
            Fault::TooMany => "429",
            Fault::Timeout => "timeout",
            Fault::Reset => "reset",
            Fault::BadSignature => "bad-sig",
        }
    }
}

/// Attempts from this one on are never failed on purpose by a flaky receiver, and every
/// flaky endpoint's schedule allows more attempts than this: a flaky endpoint's deliveries
/// must all end delivered, and only the dead endpoint's end as failures.
pub const LAST_FAULTY_ATTEMPT: u32 = 3;

/// How one receiver behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// Fails attempts up to [`LAST_FAULTY_ATTEMPT`] with probability `rate`, spread over
    /// 5xx, 429, timeouts and resets; answers some successes with a slow body.
    Flaky { rate: f64, seed: u64, salt: u64 },
    /// Answers 500 to everything.
    Dead,
}

impl Behaviour {
    pub fn decide(&self, webhook_id: &str, attempt: u32) -> Fault {
        match *self {
            Behaviour::Dead => Fault::ServerError,
            Behaviour::Flaky { rate, seed, salt } => {
                let h = mix(seed ^ salt.rotate_left(17) ^ fnv(webhook_id) ^ u64::from(attempt));
                let u = unit(h);
                if attempt <= LAST_FAULTY_ATTEMPT && u < rate {
                    const FAILURES: [Fault; 4] = [
                        Fault::ServerError,
                        Fault::TooMany,
                        Fault::Timeout,
                        Fault::Reset,
                    ];
                    FAILURES[usize::try_from((h >> 8) % 4).unwrap_or(0)]
                } else if u < rate * 1.25 {
                    Fault::SlowBody
                } else {
                    Fault::None
                }
            }
        }
    }
}

/// splitmix64's finaliser: a cheap, well-spread hash for repeatable decisions.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over a string, so webhook ids feed [`mix`].
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A hash as a number in [0, 1).
pub fn unit(h: u64) -> f64 {
    // The top 53 bits fill an f64's mantissa exactly.
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_receivers_fail_about_the_configured_share_and_never_late_attempts() {
        let b = Behaviour::Flaky {
            rate: 0.2,
            seed: 1,
            salt: 2,
        };
        let failed = (0..10_000)
            .filter(|i| !b.decide(&format!("evt_{i}"), 1).is_success())
            .count();
        assert!((1_700..2_300).contains(&failed), "{failed}");
        assert!((0..10_000).all(|i| b
            .decide(&format!("evt_{i}"), LAST_FAULTY_ATTEMPT + 1)
            .is_success()));
        assert_eq!(Behaviour::Dead.decide("evt_1", 9), Fault::ServerError);
    }
}
