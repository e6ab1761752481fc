//! Pix keys (DICT): classify by shape, then check the type's rule (docs/pix-domain.md §2.7).
//!
//! A key that fails its type's rule is kept with its classified type and flagged
//! (`PIX_KEY_FORMAT`); only an empty key, one over 77 characters, or one with control characters is
//! refused. Keys print as `<EMAIL key, 24 chars>`: the type and length, never a character of it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::enums::str_enum;
use super::pattern;
use super::taxid::{Cnpj, Cpf};

/// Longest key DICT allows.
pub const MAX_KEY_CHARS: usize = 77;

str_enum! {
    /// Key type as classified from its shape.
    PixKeyType {
        /// 11 digits.
        Cpf = "CPF",
        /// 14 × [0-9A-Z].
        Cnpj = "CNPJ",
        /// Starts with `+`.
        Phone = "PHONE",
        /// Contains `@`.
        Email = "EMAIL",
        /// UUID shape (random key).
        Evp = "EVP",
        /// None of the above (DICT warns new types may appear).
        Unknown = "UNKNOWN",
    }
}

/// Why a key was refused outright.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixKeyError {
    /// Empty string.
    #[error("key is empty")]
    Empty,
    /// More than 77 characters.
    #[error("key has {0} characters, more than 77")]
    TooLong(usize),
    /// Contains control characters.
    #[error("key contains control characters")]
    ControlChars,
}

/// A Pix key. Holding one means it is non-empty, ≤ 77 chars and free of control characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PixKey(String);

impl PixKey {
    /// Validating constructor (the hard rules only).
    pub fn parse(s: &str) -> Result<PixKey, PixKeyError> {
        let chars = s.chars().count();
        if chars == 0 {
            Err(PixKeyError::Empty)
        } else if chars > MAX_KEY_CHARS {
            Err(PixKeyError::TooLong(chars))
        } else if s.chars().any(char::is_control) {
            Err(PixKeyError::ControlChars)
        } else {
            Ok(PixKey(s.to_owned()))
        }
    }

    /// Classification order of docs/pix-domain.md §2.7: `@` → EMAIL, `+` → PHONE, UUID (any case) → EVP,
    /// 11 digits → CPF, 14 × [0-9A-Z] → CNPJ, else UNKNOWN.
    pub fn classify(&self) -> PixKeyType {
        let s = self.0.as_str();
        if s.contains('@') {
            PixKeyType::Email
        } else if s.starts_with('+') {
            PixKeyType::Phone
        } else if pattern::UUID_ANY_CASE.is_match(s) {
            PixKeyType::Evp
        } else if pattern::CPF.is_match(s) {
            PixKeyType::Cpf
        } else if pattern::CNPJ_LIKE.is_match(s) {
            PixKeyType::Cnpj
        } else {
            PixKeyType::Unknown
        }
    }

    /// Whether the key satisfies the rule of its classified type (UNKNOWN never does).
    pub fn follows_type_rule(&self) -> bool {
        let s = self.0.as_str();
        match self.classify() {
            PixKeyType::Email => pattern::EMAIL.is_match(s),
            PixKeyType::Phone => pattern::PHONE_BR.is_match(s),
            PixKeyType::Evp => pattern::EVP.is_match(s),
            PixKeyType::Cpf => s.parse::<Cpf>().is_ok(),
            PixKeyType::Cnpj => s.parse::<Cnpj>().is_ok(),
            PixKeyType::Unknown => false,
        }
    }

    /// The raw key.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for PixKey {
    type Err = PixKeyError;
    fn from_str(s: &str) -> Result<Self, PixKeyError> {
        PixKey::parse(s)
    }
}

impl TryFrom<String> for PixKey {
    type Error = PixKeyError;
    fn try_from(s: String) -> Result<Self, PixKeyError> {
        PixKey::parse(&s)
    }
}

impl From<PixKey> for String {
    fn from(v: PixKey) -> String {
        v.0
    }
}

impl fmt::Display for PixKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} key, {} chars>", self.classify(), self.0.chars().count())
    }
}

impl fmt::Debug for PixKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> (PixKeyType, bool) {
        let k = PixKey::parse(s).unwrap();
        (k.classify(), k.follows_type_rule())
    }

    #[test]
    fn classification_and_rules() {
        use PixKeyType::*;
        assert_eq!(kind("email0@exemplo.com.br"), (Email, true));
        assert_eq!(kind("idContaTransacional0@bc.com.br"), (Email, false)); // capitals
        assert_eq!(kind("fulano%x@exemplo.com"), (Email, false));
        assert_eq!(kind("+5561988887777"), (Phone, true));
        assert_eq!(kind("+5510998765432"), (Phone, false)); // DICT example, area code 10
        assert_eq!(kind("+14155550100"), (Phone, false));
        assert_eq!(kind("7d9f0335-8dcc-4054-9bf9-0dbd61d36906"), (Evp, true));
        assert_eq!(kind("7407c9c8-f78b-11ea-adc1-0242ac120002"), (Evp, true)); // v1 UUID is fine
        assert_eq!(kind("7D9F0335-8DCC-4054-9BF9-0DBD61D36906"), (Evp, false));
        assert_eq!(kind("4004901d-bd85-4769-8e52-cb4c42c506dx"), (Unknown, false)); // 'x' is not hex
        assert_eq!(kind("52998224725"), (Cpf, true));
        assert_eq!(kind("52998224724"), (Cpf, false));
        assert_eq!(kind("12ABC34501DE35"), (Cnpj, true));
        assert_eq!(kind("12ABC34501DEAB"), (Cnpj, false));
        assert_eq!(kind("chave aleatoria"), (Unknown, false));
    }

    #[test]
    fn hard_rules() {
        assert_eq!(PixKey::parse(""), Err(PixKeyError::Empty));
        assert_eq!(PixKey::parse(&"a".repeat(78)), Err(PixKeyError::TooLong(78)));
        assert!(PixKey::parse(&"a".repeat(77)).is_ok());
        assert_eq!(PixKey::parse("a\u{0}b"), Err(PixKeyError::ControlChars));
    }

    #[test]
    fn masked() {
        let k = PixKey::parse("email0@exemplo.com.br").unwrap();
        assert_eq!(format!("{k:?}"), "<EMAIL key, 21 chars>");
        assert_eq!(k.to_string(), "<EMAIL key, 21 chars>");
    }
}
