//! Anchored, ASCII-only regular expressions shared by the identifier newtypes and the validator.
//!
//! Every pattern is anchored with `^…$` and spelled with explicit ASCII classes (`[0-9]`, never `\d`
//! or `\w`, which are Unicode-aware in Rust; `docs/engineering-notes.md §5`). The crate asks for
//! `regex` without its Unicode features, so in its own build a stray `\d` fails to compile instead
//! of silently accepting fullwidth digits; the ASCII spelling is what holds in every build.

use std::sync::LazyLock;

use regex::Regex;

/// Compiles a literal pattern once.
///
/// The patterns are string literals of this module; `every_pattern_compiles` below builds each
/// of them, so the `expect` can only fire on a programming error that that test would catch first.
#[allow(clippy::expect_used)]
fn compile(pattern: &'static str) -> Regex {
    Regex::new(pattern).expect("static pattern compiles")
}

macro_rules! patterns {
    ($($(#[$doc:meta])* $name:ident = $pat:literal;)*) => {
        $(
            $(#[$doc])*
            pub(crate) static $name: LazyLock<Regex> = LazyLock::new(|| compile($pat));
        )*
        #[cfg(test)]
        pub(crate) fn all() -> Vec<&'static LazyLock<Regex>> {
            vec![$(&$name),*]
        }
    };
}

patterns! {
    /// endToEndId: `E` + 8-char ISPB + `yyyyMMddHHmm` (loose digit ranges, as the XSD) + 11 alphanumerics.
    E2E = r"^E[0-9A-Z]{8}[0-9]{4}[0-1][0-9][0-3][0-9][0-2][0-9][0-5][0-9][a-zA-Z0-9]{11}$";
    /// Return id (rtrId): same layout as the endToEndId with a `D`.
    RTR_ID = r"^D[0-9A-Z]{8}[0-9]{4}[0-1][0-9][0-3][0-9][0-2][0-9][0-5][0-9][a-zA-Z0-9]{11}$";
    /// Message id (BizMsgIdr / MsgId).
    MESSAGE_ID = r"^M[0-9A-Z]{8}[a-zA-Z0-9]{23}$";
    /// txid and devolução id.
    TXID = r"^[a-zA-Z0-9]{1,35}$";
    /// ISPB.
    ISPB = r"^[0-9A-Z]{8}$";
    /// JSON amount: up to 10 integer digits, exactly 2 decimals.
    AMOUNT = r"^[0-9]{1,10}\.[0-9]{2}$";
    /// Amount shape with any number of integer digits (used to tell out-of-range from malformed).
    AMOUNT_LONG = r"^[0-9]+\.[0-9]{2}$";
    /// RFC 3339 date-time with a mandatory zone; upper-case `T` and `Z` only.
    DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$";
    /// Account branch (agência).
    BRANCH = r"^[0-9]{1,4}$";
    /// Account number (a letter check digit is replaced by 0 upstream, but letters stay allowed).
    ACCOUNT_NUMBER = r"^[0-9A-Z]{1,20}$";
    /// CPF shape: 11 ASCII digits.
    CPF = r"^[0-9]{11}$";
    /// CNPJ shape: 12 upper-case alphanumerics + 2 digit check digits.
    CNPJ = r"^[0-9A-Z]{12}[0-9]{2}$";
    /// Loose CNPJ-like key shape used by the key classifier: 14 upper-case alphanumerics.
    CNPJ_LIKE = r"^[0-9A-Z]{14}$";
    /// Any-case UUID shape, used to classify a key as EVP.
    UUID_ANY_CASE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
    /// DICT EVP rule: lower-case hex UUID (any version).
    EVP = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
    /// DICT e-mail rule (lower case only, no `%`).
    EMAIL = r"^[a-z0-9.!#$&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$";
    /// Brazilian mobile phone shape (our heuristic, docs/pix-domain.md §2.7).
    PHONE_BR = r"^\+55[1-9]{2}9[0-9]{8}$";
    /// ISO 20022 status reason code (pacs.002 `StsRsnInf/Rsn/Cd`): 4 upper-case alphanumerics.
    STATUS_REASON = r"^[A-Z0-9]{4}$";
    /// Event id `{tx_id}:{event_type}:{status}`.
    EVENT_ID = r"^[a-zA-Z0-9]{32}:(TRANSFER|RETURN|STATUS):(PENDING|IN_PROCESS|SETTLED|REJECTED|UNKNOWN)$";
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_pattern_compiles() {
        for p in super::all() {
            assert!(p.as_str().starts_with('^') && p.as_str().ends_with('$'), "{} is not anchored", p.as_str());
        }
    }
}
