//! [`Category`]: which topic family an event belongs to (docs/pix-domain.md §6).

use serde::{Deserialize, Serialize};

/// Payment (we pay), receipt (we receive), refund (devolução in either direction), and the fraud
/// reports that label them (DICT infraction reports and MED refund requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// We are the payer's PSP: `pix.pagamentos`.
    Payment,
    /// We are the receiver's PSP: `pix.recebimentos`.
    Receipt,
    /// A devolução or MED reimbursement: `pix.estornos`.
    Refund,
    /// A DICT infraction report or MED refund request (schema `fraud_report` v1, not the canonical
    /// event): `pix.infracoes`, keyed by the reported transaction's endToEndId.
    FraudReport,
}

impl Category {
    /// Every category.
    pub const ALL: &'static [Category] =
        &[Category::Payment, Category::Receipt, Category::Refund, Category::FraudReport];

    /// The categories whose records are canonical events (schema `pix-event` v1): what a sink
    /// reads when its entry names no topics.
    pub const TRANSACTIONS: &'static [Category] = &[Category::Payment, Category::Receipt, Category::Refund];

    /// `payment` / `receipt` / `refund` / `fraud_report`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Payment => "payment",
            Category::Receipt => "receipt",
            Category::Refund => "refund",
            Category::FraudReport => "fraud_report",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for c in Category::ALL {
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{}\"", c.as_str()));
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Category::parse("Payment"), None);
        assert_eq!(Category::parse("fraud_report"), Some(Category::FraudReport));
        assert!(!Category::TRANSACTIONS.contains(&Category::FraudReport));
    }
}
