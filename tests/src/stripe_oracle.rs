//! Stripe's own library (`pip install stripe`) as the sender of the Stripe requests an
//! inbound source takes: it signs a payload as Stripe does and checks the header with its
//! public verifier before the test posts it, so what authhooks must accept is Stripe's
//! code's word, not ours.

use std::process::Command;

const SCRIPT: &str = r#"
import sys
try:
    import stripe
except ImportError as err:
    print(f"missing stripe ({err}); run: pip install stripe")
    sys.exit(2)
payload, secret, t = sys.argv[1], sys.argv[2], int(sys.argv[3])
signature = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", secret)
header = f"t={t},v1={signature}"
stripe.WebhookSignature.verify_header(payload, header, secret, 300)
print(header, end="")
"#;

/// The `Stripe-Signature` header Stripe's library makes for `payload` under `secret` at
/// `timestamp` (unix seconds), once its own verifier has accepted it.
pub fn stripe_signature(payload: &str, secret: &str, timestamp: i64) -> Result<String, String> {
    let out = Command::new("python3")
        .args(["-c", SCRIPT, payload, secret, &timestamp.to_string()])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}
