//! Tax ids (CPF, CNPJ) with their check digits, masked in `Debug`/`Display`.
//!
//! Masking rule: only the two check digits stay visible (`***.***.***-25`, `**.***.***/****-35`).
//! Check digits are derived from the other digits, so they reveal nothing a reader could not
//! compute, yet they let an operator tell two masked values apart in a log. The raw value is
//! reachable only through [`Cpf::expose`] / [`Cnpj::expose`] / [`TaxId::expose`], and `Serialize`
//! (the Kafka record must carry it).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::enums::TaxIdType;
use super::ids::describe;
use super::pattern;

/// Why a tax id was refused. `CheckDigit` is the only kind a `warn` policy may downgrade to a flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxIdError {
    /// Wrong length or characters (lower case, punctuation, letters in a CPF or in CNPJ check digits).
    #[error("tax id format: {0}")]
    Format(String),
    /// Right shape, but the check digits do not match (or a CPF made of one repeated digit).
    #[error("tax id check digit: {0}")]
    CheckDigit(String),
}

/// CPF check digits over ASCII digits (docs/pix-domain.md §2.6): `r = (Σ·10) mod 11`, `r == 10 → 0`.
fn cpf_digits_ok(b: &[u8]) -> bool {
    let d: Vec<u32> = b.iter().map(|c| u32::from(c.wrapping_sub(b'0'))).collect();
    if d.len() != 11 {
        return false;
    }
    let dv = |n: usize| {
        let sum: u32 = d.iter().take(n).enumerate().map(|(i, v)| v * (n as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        if r == 10 { 0 } else { r }
    };
    dv(9) == d[9] && dv(10) == d[10]
}

/// CNPJ check digits, alphanumeric-aware: each char counts `ASCII − 48`; `r = Σ mod 11`, `r < 2 → 0 else 11 − r`.
fn cnpj_digits_ok(b: &[u8]) -> bool {
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let v: Vec<u32> = b.iter().map(|c| u32::from(c.wrapping_sub(b'0'))).collect();
    if v.len() != 14 {
        return false;
    }
    let dv = |w: &[u32]| {
        let r = v.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11;
        if r < 2 { 0 } else { 11 - r }
    };
    dv(&W1) == v[12] && dv(&W2) == v[13]
}

/// Whether the characters before the two check digits are all one repeated character.
///
/// Such numbers are placeholders (`00000000000000`, `11111111111111`, `AAAAAAAAAAAA45`), never real
/// registrations, and some pass the mod-11 arithmetic (all-zero does; a repeated base with its
/// computed check digits always does), so they are refused explicitly, as a check-digit failure.
/// For a CPF the whole number is one repeated digit exactly when its base is (the digits of a
/// repeated base always compute to that digit again).
fn repeated_base(b: &[u8]) -> bool {
    let base = b.get(..b.len().saturating_sub(2)).unwrap_or_default();
    base.first().is_some_and(|first| base.iter().all(|c| c == first))
}

/// Declares a tax-id newtype; `$shape` is the format pattern, `$digits` the check-digit function.
macro_rules! tax_id_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $shape:expr, $expected:literal, $digits:expr, $mask:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the format only; check digits may be wrong (see [`Self::check_digits_ok`]).
            /// Used under the `warn` policy and when reading back published events.
            pub fn parse_format(s: &str) -> Result<Self, TaxIdError> {
                if $shape.is_match(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(TaxIdError::Format(describe(s, $expected)))
                }
            }

            /// Whether the check digits are right (and, for a CPF, it is not one repeated digit).
            pub fn check_digits_ok(&self) -> bool {
                let check: fn(&[u8]) -> bool = $digits;
                check(self.0.as_bytes())
            }

            /// The raw value. Named loudly so every unmasked use is visible in review.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = TaxIdError;
            /// Strict parse: format and check digits.
            fn from_str(s: &str) -> Result<Self, TaxIdError> {
                let v = Self::parse_format(s)?;
                if v.check_digits_ok() {
                    Ok(v)
                } else {
                    Err(TaxIdError::CheckDigit(concat!($kind, " check digit mismatch").to_owned()))
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = TaxIdError;
            fn try_from(s: &str) -> Result<Self, TaxIdError> {
                s.parse()
            }
        }

        /// Format-only: a published event may carry a tax id accepted under the `warn` policy.
        impl TryFrom<String> for $name {
            type Error = TaxIdError;
            fn try_from(s: String) -> Result<Self, TaxIdError> {
                Self::parse_format(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let dv = self.0.get(self.0.len().saturating_sub(2)..).unwrap_or_default();
                write!(f, $mask, dv)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

tax_id_newtype!(
    /// CPF (individual), 11 digits. Repeated-digit numbers (`11111111111`) are refused as a check-digit failure.
    Cpf, "CPF", pattern::CPF, "11 digits [0-9]",
    |b| cpf_digits_ok(b) && !repeated_base(b),
    "***.***.***-{}"
);
tax_id_newtype!(
    /// CNPJ (company), 12 × `[0-9A-Z]` + 2 check digits `[0-9]` (alphanumeric CNPJ, IN RFB 2229/2024).
    /// A base of one repeated character (`00000000000000`, `AAAAAAAAAAAA45`) is refused as a
    /// check-digit failure, like a repeated-digit CPF.
    Cnpj, "CNPJ", pattern::CNPJ, "12 [0-9A-Z] + 2 [0-9]",
    |b| cnpj_digits_ok(b) && !repeated_base(b),
    "**.***.***/****-{}"
);

/// A CPF or a CNPJ; the length decides which (11 → CPF, 14 → CNPJ).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TaxId {
    /// Individual.
    Cpf(Cpf),
    /// Company.
    Cnpj(Cnpj),
}

impl TaxId {
    /// Parses the format by length; check digits may be wrong (see [`TaxId::check_digits_ok`]).
    pub fn parse_format(s: &str) -> Result<TaxId, TaxIdError> {
        match s.len() {
            11 => Cpf::parse_format(s).map(TaxId::Cpf),
            14 => Cnpj::parse_format(s).map(TaxId::Cnpj),
            _ => Err(TaxIdError::Format(describe(s, "11 digits (CPF) or 14 [0-9A-Z] ending in 2 digits (CNPJ)"))),
        }
    }

    /// Whether the check digits are right.
    pub fn check_digits_ok(&self) -> bool {
        match self {
            TaxId::Cpf(v) => v.check_digits_ok(),
            TaxId::Cnpj(v) => v.check_digits_ok(),
        }
    }

    /// CPF or CNPJ.
    pub fn kind(&self) -> TaxIdType {
        match self {
            TaxId::Cpf(_) => TaxIdType::Cpf,
            TaxId::Cnpj(_) => TaxIdType::Cnpj,
        }
    }

    /// The raw value.
    pub fn expose(&self) -> &str {
        match self {
            TaxId::Cpf(v) => v.expose(),
            TaxId::Cnpj(v) => v.expose(),
        }
    }
}

impl FromStr for TaxId {
    type Err = TaxIdError;
    /// Strict parse: format and check digits.
    fn from_str(s: &str) -> Result<Self, TaxIdError> {
        let v = TaxId::parse_format(s)?;
        if v.check_digits_ok() { Ok(v) } else { Err(TaxIdError::CheckDigit("check digit mismatch".to_owned())) }
    }
}

impl TryFrom<String> for TaxId {
    type Error = TaxIdError;
    fn try_from(s: String) -> Result<Self, TaxIdError> {
        TaxId::parse_format(&s)
    }
}

impl From<TaxId> for String {
    fn from(v: TaxId) -> String {
        v.expose().to_owned()
    }
}

impl fmt::Display for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxId::Cpf(v) => fmt::Display::fmt(v, f),
            TaxId::Cnpj(v) => fmt::Display::fmt(v, f),
        }
    }
}

impl fmt::Debug for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxId::Cpf(v) => fmt::Debug::fmt(v, f),
            TaxId::Cnpj(v) => fmt::Debug::fmt(v, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpf_examples() {
        for ok in ["52998224725", "12345678909"] {
            assert!(ok.parse::<Cpf>().is_ok(), "{ok}");
        }
        for bad in ["52998224724", "11111111111", "11122233300", "00000000000"] {
            assert!(matches!(bad.parse::<Cpf>(), Err(TaxIdError::CheckDigit(_))), "{bad}");
        }
        for d in b'0'..=b'9' {
            let repeated = String::from_utf8(vec![d; 11]).unwrap();
            assert!(cpf_digits_ok(repeated.as_bytes()), "{repeated}: the arithmetic alone accepts it");
            assert!(matches!(repeated.parse::<Cpf>(), Err(TaxIdError::CheckDigit(_))), "{repeated}");
        }
        for bad in ["5299822472", "529982247251", "529.982.247-25", "5299822472a", "５2998224725"] {
            assert!(matches!(bad.parse::<Cpf>(), Err(TaxIdError::Format(_))), "{bad}");
        }
    }

    #[test]
    fn cnpj_examples() {
        for ok in ["11222333000181", "12345678000195", "12ABC34501DE35"] {
            assert!(ok.parse::<Cnpj>().is_ok(), "{ok}");
        }
        assert!(matches!("11222333000150".parse::<Cnpj>(), Err(TaxIdError::CheckDigit(_))));
        // A repeated base passes the arithmetic here (all-zero, and each base with its computed
        // digits) but is a placeholder: refused as a check-digit failure, like a repeated CPF.
        let repeated = ["00000000000000", "11111111111180", "99999999999962", "AAAAAAAAAAAA45", "ZZZZZZZZZZZZ62"];
        for bad in repeated {
            assert!(cnpj_digits_ok(bad.as_bytes()), "{bad}: the arithmetic alone accepts it");
            assert!(matches!(bad.parse::<Cnpj>(), Err(TaxIdError::CheckDigit(_))), "{bad}");
            assert!(!Cnpj::parse_format(bad).unwrap().check_digits_ok(), "{bad}");
        }
        for bad in ["11111111111111", "77777777777777", "AAAAAAAAAAAA00"] {
            assert!(matches!(bad.parse::<Cnpj>(), Err(TaxIdError::CheckDigit(_))), "{bad}");
        }
        // One different character is enough to be a real number again.
        assert!(!repeated_base(b"00000000000191"));
        assert!("00000000000191".parse::<Cnpj>().is_ok(), "Banco do Brasil's CNPJ");
        assert!(matches!("00000000000000".parse::<TaxId>(), Err(TaxIdError::CheckDigit(_))));
        for bad in ["12abc34501de35", "12ABC34501DEAB", "11.222.333/0001-81", "1122233300018"] {
            assert!(matches!(bad.parse::<Cnpj>(), Err(TaxIdError::Format(_))), "{bad}");
        }
    }

    #[test]
    fn tax_id_by_length() {
        assert_eq!("52998224725".parse::<TaxId>().unwrap().kind(), TaxIdType::Cpf);
        assert_eq!("12ABC34501DE35".parse::<TaxId>().unwrap().kind(), TaxIdType::Cnpj);
        assert!(matches!(TaxId::parse_format("123"), Err(TaxIdError::Format(_))));
        let warn = TaxId::parse_format("52998224724").unwrap();
        assert!(!warn.check_digits_ok());
    }

    #[test]
    fn masked_everywhere_but_serialize() {
        let cpf: TaxId = "52998224725".parse().unwrap();
        let cnpj: TaxId = "12ABC34501DE35".parse().unwrap();
        assert_eq!(cpf.to_string(), "***.***.***-25");
        assert_eq!(format!("{cpf:?}"), "Cpf(***.***.***-25)");
        assert_eq!(cnpj.to_string(), "**.***.***/****-35");
        assert!(!format!("{cnpj:?}").contains("ABC"));
        assert_eq!(serde_json::to_string(&cpf).unwrap(), "\"52998224725\"");
        assert_eq!(cpf.expose(), "52998224725");
    }
}
