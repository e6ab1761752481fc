//! [`Category`]: which topic family an event belongs to (docs/pix-domain.md §6).

use serde::{Deserialize, Serialize};

/// Payment (we pay), receipt (we receive), refund (devolução in either direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// We are the payer's PSP: `pix.pagamentos`.
    Payment,
    /// We are the receiver's PSP: `pix.recebimentos`.
    Receipt,
    /// A devolução or MED reimbursement: `pix.estornos`.
    Refund,
}

impl Category {
    /// Every category.
    pub const ALL: &'static [Category] = &[Category::Payment, Category::Receipt, Category::Refund];

    /// `payment` / `receipt` / `refund`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Payment => "payment",
            Category::Receipt => "receipt",
            Category::Refund => "refund",
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
    }
}
