//! Why an item is refused: the closed [`ReasonCode`] set (docs/pix-domain.md §8), [`Reason`]
//! `{code, path, detail}`, and the pipeline [`Stage`] each code belongs to.
//!
//! A root module with no dependency inside the crate: the body splitter ([`crate::decode`]), the
//! validator ([`crate::validate`]) and the wire formats ([`crate::formats`]) all produce reasons,
//! and none of them has to reach into another for the type.
//!
//! Codes become Prometheus label values and the `pix-dlq-reason` header, so the set is closed:
//! field-specific codes exist only for the field names of our own schema ([`Field`], [`EnumField`]),
//! each a `&'static str`; nothing is ever built from payload text. An unknown member name goes into
//! [`Reason::path`] under the single code `field.unknown`. `detail` never quotes a value that could
//! be personal data; it describes it ("11 characters, check digit mismatch").

mod code;
mod field;

#[cfg(test)]
mod tests;

use std::fmt;

pub use code::ReasonCode;
pub use field::{EnumField, Field};

/// Which step of the pipeline refused an item: the `pix-dlq-stage` header and the `stage` label.
///
/// The stage is a property of the code ([`ReasonCode::stage`]), declared next to each code, never
/// guessed from its spelling. The rule:
/// - [`Stage::Decode`]: the bytes could not be read as a message or an item of their format. All
///   `payload.*` codes (not UTF-8, not JSON/XML, too deep, too large, a repeated member name, an
///   item that is not an object, a DTD), all `xml.*` codes (namespace, `MsgDefIdr`, element
///   multiplicity), `batch.count_mismatch`, and the missing or mistyped envelope members of the other
///   formats: `field.missing.pix`, `field.type.pix`, `field.type.devolucoes`,
///   `field.missing.xml_element` (see [`Field::stage`]).
/// - [`Stage::Validate`]: the item was read, and it breaks a rule: every other code (field formats,
///   required canonical members, closed lists, cross-field rules, `category.undeterminable`,
///   producer values that disagree with ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The bytes are not a readable message/item of the format.
    Decode,
    /// A readable item that breaks a Pix rule.
    Validate,
}

impl Stage {
    /// `decode` / `validate`, as written in dead-letter headers and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Validate => "validate",
        }
    }

    /// The stage of a rejection: the stage of its first reason (the one in the `pix-dlq-reason`
    /// header), so a reason label always comes with the same stage label. An empty list (which no
    /// decoder returns) counts as [`Stage::Decode`]: nothing could be said about the item.
    pub fn of(reasons: &[Reason]) -> Stage {
        reasons.first().map_or(Stage::Decode, |r| r.code.stage())
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One hard problem of an item: what (code), where (path), and a PII-free explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// Dotted location, e.g. `payer.tax_id`, `amount_breakdown.saque.valor`, `[3]`; empty for the whole item.
    pub path: String,
    /// Human explanation; never contains a CPF/CNPJ/key/name/account value.
    pub detail: String,
}

/// Longest path we keep: a path may carry an unknown member name chosen by the producer.
const MAX_PATH_CHARS: usize = 200;

impl Reason {
    /// Builds a reason. The path is truncated to 200 characters and stripped of control characters.
    pub fn new(code: ReasonCode, path: impl Into<String>, detail: impl Into<String>) -> Reason {
        let path: String = path.into().chars().filter(|c| !c.is_control()).take(MAX_PATH_CHARS).collect();
        Reason { code, path, detail: detail.into() }
    }

    /// `field.missing.<field>` at `path`.
    pub fn missing(field: Field, path: impl Into<String>) -> Reason {
        Reason::new(ReasonCode::FieldMissing(field), path, "required member is absent")
    }

    /// `field.type.<field>` at `path`.
    pub fn wrong_type(field: Field, path: impl Into<String>, expected: &str) -> Reason {
        Reason::new(ReasonCode::FieldType(field), path, format!("expected {expected}"))
    }

    /// `payload.unparseable` for the whole item.
    pub fn unparseable(detail: impl Into<String>) -> Reason {
        Reason::new(ReasonCode::PayloadUnparseable, "", detail)
    }

    /// `payload.too_large` (for the HTTP layer): `limit` bytes.
    pub fn too_large(limit: usize) -> Reason {
        Reason::new(ReasonCode::PayloadTooLarge, "", format!("body exceeds {limit} bytes"))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.code, self.detail)
        } else {
            write!(f, "{} at {}: {}", self.code, self.path, self.detail)
        }
    }
}
