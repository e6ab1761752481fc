//! Payer/payee: [`Party`], [`Account`], and the PII wrappers [`AccountNumber`] and [`PersonalText`].
//!
//! Everything that can identify a person prints masked in `Debug`/`Display`; `Serialize` writes the
//! raw value because the Kafka record must carry it. Exposing it elsewhere takes `expose()`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::enums::{AccountType, TaxIdType};
use super::ids::{IdError, Ispb, describe};
use super::pattern;
use super::taxid::TaxId;

/// Free text that may hold personal data (names, remittance text, reasons): masked in logs.
///
/// `Debug`/`Display` print only the length, e.g. `<redacted, 15 chars>`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonalText(String);

impl PersonalText {
    /// Wraps a text. Length limits are the validator's job (they differ per field).
    pub fn new(text: impl Into<String>) -> Self {
        PersonalText(text.into())
    }

    /// The raw text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} chars>", self.0.chars().count())
    }
}

impl fmt::Debug for PersonalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Account number `^[0-9A-Z]{1,20}$`; masked as `***` plus its length.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Validating constructor.
    pub fn parse(s: &str) -> Result<AccountNumber, IdError> {
        if pattern::ACCOUNT_NUMBER.is_match(s) {
            Ok(AccountNumber(s.to_owned()))
        } else {
            Err(IdError { kind: "account number", detail: describe(s, "1 to 20 [0-9A-Z]") })
        }
    }

    /// The raw value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AccountNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        AccountNumber::parse(s)
    }
}

impl TryFrom<String> for AccountNumber {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        AccountNumber::parse(&s)
    }
}

impl From<AccountNumber> for String {
    fn from(v: AccountNumber) -> String {
        v.0
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<account, {} chars>", self.0.len())
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Branch (agência) `^[0-9]{1,4}$`. Not personal data on its own, so it prints in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Branch(String);

impl Branch {
    /// Validating constructor.
    pub fn parse(s: &str) -> Result<Branch, IdError> {
        if pattern::BRANCH.is_match(s) {
            Ok(Branch(s.to_owned()))
        } else {
            Err(IdError { kind: "branch", detail: describe(s, "1 to 4 [0-9]") })
        }
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Branch {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Branch::parse(&s)
    }
}

impl From<Branch> for String {
    fn from(v: Branch) -> String {
        v.0
    }
}

/// An account at a participant. `number` is required when the object is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Branch; absent for institutions without branches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<Branch>,
    /// Account number.
    pub number: AccountNumber,
    /// Account type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
}

/// Payer or payee.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    /// ISPB of the party's PSP (required for the payee; for the payer it falls back to the endToEndId's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ispb: Option<Ispb>,
    /// CPF or CNPJ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<TaxId>,
    /// Derived from `tax_id` (always present with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id_type: Option<TaxIdType>,
    /// Name (≤ 140 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonalText>,
    /// Account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_rules() {
        assert!(AccountNumber::parse("500000").is_ok());
        assert!(AccountNumber::parse("12345678901234567890").is_ok());
        assert!(AccountNumber::parse("123456789012345678901").is_err());
        assert!(AccountNumber::parse("12345-6").is_err());
        assert!(AccountNumber::parse("").is_err());
        assert!(Branch::parse("0001").is_ok());
        assert!(Branch::parse("00001").is_err());
        assert!(Branch::parse("A001").is_err());
    }

    #[test]
    fn masking() {
        let n = AccountNumber::parse("5009876").unwrap();
        assert!(!format!("{n:?}{n}").contains("5009876"));
        let t = PersonalText::new("Fulano da Silva");
        assert_eq!(format!("{t:?}"), "<redacted, 15 chars>");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"Fulano da Silva\"");
    }
}
