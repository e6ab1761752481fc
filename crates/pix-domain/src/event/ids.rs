//! Identifier newtypes: endToEndId, return id, txid, message id, ISPB and the derived event id.
//!
//! Each one is built only by a validating parse (`FromStr` / `TryFrom<&str>` / serde), so holding
//! one means the value matched its anchored ASCII pattern. None of these is personal data, so they
//! print in clear; the error never quotes the input anyway (a misplaced CPF could land in any field).

use std::{fmt, str::FromStr, sync::LazyLock};

use chrono::{NaiveDate, NaiveDateTime};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::enums::{EventType, Status};
use super::pattern;

/// An identifier did not match its format. The input is described, never quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {detail}")]
pub struct IdError {
    /// Which identifier (`"endToEndId"`, `"ISPB"`, …).
    pub kind: &'static str,
    /// What was wrong, without the value.
    pub detail: String,
}

/// Describes `s` without revealing it: its length and the classes of characters it holds.
pub(crate) fn describe(s: &str, expected: &str) -> String {
    let chars = s.chars().count();
    let mut notes = Vec::new();
    if !s.is_ascii() {
        notes.push("non-ASCII characters");
    }
    if s.chars().any(char::is_whitespace) {
        notes.push("whitespace");
    }
    if s.chars().any(char::is_control) {
        notes.push("control characters");
    }
    let notes = if notes.is_empty() { String::new() } else { format!(" with {}", notes.join(", ")) };
    format!("{chars} characters{notes}, expected {expected}")
}

/// Declares a validated string newtype with `FromStr`, `TryFrom<&str>`, `as_str`, serde (validating on input).
macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $re:expr, $expected:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The validated value.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            fn check(s: &str) -> Result<(), IdError> {
                let re: &LazyLock<Regex> = &$re;
                if re.is_match(s) {
                    Ok(())
                } else {
                    Err(IdError { kind: $kind, detail: describe(s, $expected) })
                }
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::check(s)?;
                Ok($name(s.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::check(&s)?;
                Ok($name(s))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_newtype!(
    /// endToEndId (`E` + ISPB + UTC `yyyyMMddHHmm` + 11 alphanumerics, 32 chars).
    EndToEndId, "endToEndId", pattern::E2E, "E + 8 [0-9A-Z] + yyyyMMddHHmm + 11 [a-zA-Z0-9] (32)"
);
id_newtype!(
    /// Return id of a devolução (rtrId, `D…`, 32 chars).
    ReturnId, "return id", pattern::RTR_ID, "D + 8 [0-9A-Z] + yyyyMMddHHmm + 11 [a-zA-Z0-9] (32)"
);
id_newtype!(
    /// Merchant transaction id (`^[a-zA-Z0-9]{1,35}$`).
    TxId, "txid", pattern::TXID, "1 to 35 [a-zA-Z0-9]"
);
id_newtype!(
    /// API Pix devolução id chosen by the merchant (same shape as a txid).
    RefundRequestId, "refund request id", pattern::TXID, "1 to 35 [a-zA-Z0-9]"
);
id_newtype!(
    /// SPI message id (BizMsgIdr / MsgId, `M…`, 32 chars).
    MessageId, "message id", pattern::MESSAGE_ID, "M + 8 [0-9A-Z] + 23 [a-zA-Z0-9] (32)"
);
id_newtype!(
    /// ISPB of a participant (`^[0-9A-Z]{8}$`). Deserializes with validation (it comes from config too).
    Ispb, "ISPB", pattern::ISPB, "8 [0-9A-Z]"
);
id_newtype!(
    /// Derived event id `{tx_id}:{event_type}:{status}` (tx_id = return id for refunds, else endToEndId).
    EventId, "event id", pattern::EVENT_ID, "{tx_id}:{event_type}:{status}"
);

// === impl EndToEndId ===

impl EndToEndId {
    /// The 8-character ISPB (or generator id) embedded at positions 2–9.
    pub fn ispb_str(&self) -> &str {
        // The pattern guarantees 32 ASCII bytes, so this range is always in bounds; `get` keeps it panic-free anyway.
        self.0.get(1..9).unwrap_or_default()
    }

    /// The embedded ISPB as an [`Ispb`] (always valid for a validated endToEndId).
    pub fn ispb(&self) -> Option<Ispb> {
        self.ispb_str().parse().ok()
    }

    /// The embedded `yyyyMMddHHmm` (UTC) as a date-time, or `None` when it is not a real date
    /// (the XSD admits month 13, day 34, hour 29; BCB's own catalog uses `1234-12-34`).
    pub fn timestamp(&self) -> Option<NaiveDateTime> {
        let num = |r: std::ops::Range<usize>| self.0.get(r).and_then(|s| s.parse::<u32>().ok());
        let date = NaiveDate::from_ymd_opt(i32::try_from(num(9..13)?).ok()?, num(13..15)?, num(15..17)?)?;
        date.and_hms_opt(num(17..19)?, num(19..21)?, 0)
    }
}

// === impl EventId ===

impl EventId {
    /// Builds the event id from its parts. `tx_id` is the return id for refunds, else the endToEndId.
    pub fn derive(tx_id: &str, event_type: EventType, status: Status) -> EventId {
        // Both id kinds are 32 [a-zA-Z0-9] chars, so the result always matches EVENT_ID.
        EventId(format!("{tx_id}:{}:{}", event_type.as_str(), status.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e2e_examples() {
        assert!("E87654321202009091221dfghi123456".parse::<EndToEndId>().is_ok());
        for bad in [
            "E87654321202009091221dfghi12345",    // 31
            "E12345678202009091221ghijk78901234", // 34 (API Pix example)
            "e87654321202009091221dfghi123456",   // lower-case prefix
            "D87654321202009091221dfghi123456",   // D prefix
            "E8765432120200909122１dfghi123456",  // fullwidth digit
            "E87654321202009091221dfghi123456 ",  // trailing space
            " E87654321202009091221dfghi123456",
            "",
        ] {
            let err = bad.parse::<EndToEndId>().unwrap_err();
            assert_eq!(err.kind, "endToEndId");
        }
    }

    #[test]
    fn e2e_parts() {
        let e: EndToEndId = "E87654321202009091221dfghi123456".parse().unwrap();
        assert_eq!(e.ispb_str(), "87654321");
        assert_eq!(e.timestamp().unwrap().to_string(), "2020-09-09 12:21:00");
        let catalog: EndToEndId = "E9999901012341234123412345678900".parse().unwrap();
        assert_eq!(catalog.timestamp(), None, "1234-12-34 is not a date");
    }

    #[test]
    fn other_ids() {
        assert!("D12345678202009091221abcdf098765".parse::<ReturnId>().is_ok());
        assert!("E12345678202009091221abcdf098765".parse::<ReturnId>().is_err());
        assert!("971122d8f37211eaadc10242ac120002".parse::<TxId>().is_ok());
        assert!("a".repeat(36).parse::<TxId>().is_err());
        assert!("7407c9c8-f78b-11ea-adc1-0242ac120002".parse::<TxId>().is_err());
        assert!("cobrançaÚnica".parse::<TxId>().is_err());
        assert!("M0003816612345678901234567890123".parse::<MessageId>().is_ok());
        assert!("M000381661234567890123456789012".parse::<MessageId>().is_err());
        for ok in ["00038166", "99999A04", "99999A03"] {
            assert!(ok.parse::<Ispb>().is_ok(), "{ok}");
        }
        for bad in ["1000000", "9999901a", "000381660", "0003816 "] {
            assert!(bad.parse::<Ispb>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ispb_deserializes_with_validation() {
        assert!(serde_json::from_str::<Ispb>("\"00038166\"").is_ok());
        assert!(serde_json::from_str::<Ispb>("\"0003816\"").is_err());
    }

    #[test]
    fn error_never_quotes_input() {
        let err = "E8765432120200909122Xdfghi123456x".parse::<EndToEndId>().unwrap_err();
        assert!(!err.to_string().contains("8765432"), "{err}");
    }
}
