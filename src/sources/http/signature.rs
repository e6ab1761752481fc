//! HMAC-SHA256 body signatures for webhooks (shared secret). Verification is constant-time
//! (`Mac::verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::HmacConfig;

/// Whether `header_value` (`sha256=<hex>` or `<hex>`) signs `body` under the configured secret.
pub fn verify(cfg: &HmacConfig, header_value: Option<&str>, body: &[u8]) -> bool {
    let Some(v) = header_value else { return false };
    let hex_sig = v.trim().strip_prefix("sha256=").unwrap_or(v.trim());
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(cfg.secret.expose().as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The signature header value for `body` (for clients and tests).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Secret;

    #[test]
    fn accepts_only_the_right_signature() {
        let cfg = HmacConfig { secret: Secret::new("s3cr3t"), header: "x-pix-signature".into() };
        let body = br#"{"pix":[]}"#;
        let good = sign("s3cr3t", body);
        assert!(verify(&cfg, Some(&good), body));
        assert!(verify(&cfg, Some(good.trim_start_matches("sha256=")), body));
        assert!(!verify(&cfg, Some(&sign("other", body)), body));
        assert!(!verify(&cfg, Some(&good), b"tampered"));
        assert!(!verify(&cfg, Some("sha256=zz"), body));
        assert!(!verify(&cfg, None, body));
    }
}
