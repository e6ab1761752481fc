//! Money: [`Amount`] in integer centavos, parsed from the decimal string by hand (no floats anywhere).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::pattern;

/// Why an amount string was refused. Maps one-to-one onto the `amount.*` reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not `^[0-9]{1,10}\.[0-9]{2}$` (commas, exponents, 3 decimals, no decimals, spaces, a sign:
    /// `"-1.00"` and `"+1.00"` included, since the pattern has no sign at all).
    #[error("amount is not an unsigned decimal string with exactly two decimals")]
    Format,
    /// Well-formed but zero (`"0.00"`).
    #[error("amount must be greater than zero")]
    NonPositive,
    /// Well-formed but more than 10 integer digits.
    #[error("amount has more than 10 integer digits")]
    OutOfRange,
}

/// A positive amount of reais, held as centavos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Amount(i64);

impl Amount {
    /// Parses a transaction amount: `^[0-9]{1,10}\.[0-9]{2}$` and > 0.
    ///
    /// A negative value (`"-110.00"`) is a [`AmountError::Format`] error, not
    /// [`AmountError::NonPositive`]: Pix amounts are unsigned strings (the direction of the money is
    /// the event's, never the amount's), so a sign is a malformed amount, like the SPI's `xs:decimal`
    /// amounts where the XML adapter already refuses `-1.00` as `amount.format`.
    pub fn parse_positive(s: &str) -> Result<Amount, AmountError> {
        let amount = Amount::parse_non_negative(s)?;
        if amount.0 == 0 { Err(AmountError::NonPositive) } else { Ok(amount) }
    }

    /// Parses an amount that may be zero (components of `amount_breakdown`, e.g. a zero discount).
    pub fn parse_non_negative(s: &str) -> Result<Amount, AmountError> {
        if pattern::AMOUNT.is_match(s) {
            return centavos(s).map(Amount).ok_or(AmountError::Format);
        }
        if pattern::AMOUNT_LONG.is_match(s) { Err(AmountError::OutOfRange) } else { Err(AmountError::Format) }
    }

    /// Builds an amount from centavos (used by adapters and tests); `None` unless 0 < cents ≤ 9,999,999,999.99.
    pub fn from_cents(cents: i64) -> Option<Amount> {
        (1..=999_999_999_999).contains(&cents).then_some(Amount(cents))
    }

    /// The value in centavos.
    pub const fn cents(self) -> i64 {
        self.0
    }
}

/// Integer value of a string already matching `[0-9]{1,10}\.[0-9]{2}` (≤ 12 digits, fits an i64).
fn centavos(s: &str) -> Option<i64> {
    s.bytes().filter(u8::is_ascii_digit).try_fold(0i64, |acc, b| acc.checked_mul(10)?.checked_add(i64::from(b - b'0')))
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, AmountError> {
        Amount::parse_non_negative(s)
    }
}

impl TryFrom<String> for Amount {
    type Error = AmountError;
    fn try_from(s: String) -> Result<Self, AmountError> {
        Amount::parse_non_negative(&s)
    }
}

impl From<Amount> for String {
    fn from(a: Amount) -> String {
        a.to_string()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_amounts() {
        assert_eq!(Amount::parse_positive("0.01").unwrap().cents(), 1);
        assert_eq!(Amount::parse_positive("110.00").unwrap().cents(), 11_000);
        assert_eq!(Amount::parse_positive("9999999999.99").unwrap().cents(), 999_999_999_999);
        assert_eq!(Amount::parse_positive("9999999999.99").unwrap().to_string(), "9999999999.99");
        assert_eq!(Amount::parse_positive("0001.50").unwrap().to_string(), "1.50");
    }

    #[test]
    fn invalid_amounts() {
        use AmountError::*;
        for (s, e) in [
            ("110.001", Format),
            ("110,00", Format),
            ("1.1e2", Format),
            ("110", Format),
            ("110.0", Format),
            (" 1.00", Format),
            ("+1.00", Format),
            ("１.00", Format),
            ("", Format),
            ("-1.00", Format),
            ("-110.00", Format),
            ("-0.00", Format),
            ("-12345678901.00", Format),
            ("0.00", NonPositive),
            ("12345678901.00", OutOfRange),
            ("99999999999999999999999.00", OutOfRange),
        ] {
            assert_eq!(Amount::parse_positive(s), Err(e), "{s:?}");
        }
        assert_eq!(Amount::parse_non_negative("0.00").unwrap().cents(), 0);
    }
}
