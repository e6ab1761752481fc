//! Keyed hashing of personal values before they reach the lake.
//!
//! A CPF has about 10⁹ valid values, so a plain or publicly salted SHA-256 of it is reversed by
//! enumeration in minutes. The hash is therefore HMAC-SHA256 keyed with a secret salt from the
//! config ([`crate::DeltaSinkConfig::pii_salt`]): equal inputs give equal hashes within a table
//! (joinability for fraud analytics), and without the salt nothing can be enumerated. The salt
//! must stay the same for the life of a table, or joins across the change break.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Shortest salt accepted (bytes).
pub const MIN_SALT_LEN: usize = 16;

/// HMAC-SHA256 keyed with the table's salt. `Debug` never shows the key.
#[derive(Clone)]
pub struct PiiHasher {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for PiiHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiHasher(**redacted**)")
    }
}

impl PiiHasher {
    /// A hasher keyed with `salt`; `None` when the salt is shorter than [`MIN_SALT_LEN`].
    pub fn new(salt: &[u8]) -> Option<Self> {
        if salt.len() < MIN_SALT_LEN {
            return None;
        }
        // HMAC accepts keys of any length, so this cannot fail; mapping keeps it panic-free.
        Hmac::<Sha256>::new_from_slice(salt).ok().map(|mac| Self { mac })
    }

    /// Lower-case hex HMAC of `value` (64 characters).
    ///
    /// `domain` separates kinds of values (`tax_id`, `account`, `pix_key`), so a CPF used as a
    /// Pix key does not hash like the same CPF as a tax id unless the caller asks for that.
    pub fn hash(&self, domain: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_salt_is_refused_and_hash_is_stable_keyed_and_domain_separated() {
        assert!(PiiHasher::new(b"short").is_none());
        let a = PiiHasher::new(b"0123456789abcdef").unwrap();
        let b = PiiHasher::new(b"0123456789abcdeX").unwrap();
        let h = a.hash("tax_id", "52998224725");
        assert_eq!(h.len(), 64);
        assert_eq!(h, a.hash("tax_id", "52998224725"));
        assert_ne!(h, b.hash("tax_id", "52998224725"));
        assert_ne!(h, a.hash("pix_key", "52998224725"));
        assert!(!format!("{a:?}").contains("0123"));
    }
}
