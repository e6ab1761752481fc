//! The reason-code set: unique, bounded, dotted names, and a stage for every code.

use std::collections::HashSet;

use super::*;

#[test]
fn codes_are_unique_dotted_and_bounded() {
    let all: Vec<_> = ReasonCode::all().collect();
    let names: HashSet<_> = all.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), all.len(), "duplicate code strings");
    assert!(all.len() < 200);
    for n in &names {
        assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'), "{n}");
    }
    assert_eq!(ReasonCode::FieldMissing(Field::Amount).as_str(), "field.missing.amount");
    assert_eq!(ReasonCode::FieldType(Field::Amount).as_str(), "field.type.amount");
    assert_eq!(ReasonCode::Enum(EnumField::ReturnReasonCode).as_str(), "enum.return_reason_code");
    for code in ["payload.unparseable", "payload.too_deep", "payload.too_large", "payload.duplicate_key", "e2e.format"]
    {
        assert!(names.contains(code), "{code}");
    }
}

#[test]
fn path_is_bounded() {
    let r = Reason::new(ReasonCode::FieldUnknown, "x\n".repeat(500), "unknown member");
    assert_eq!(r.path.chars().count(), 200);
    assert!(!r.path.contains('\n'));
}

/// Every code a decoder refuses at the decode stage, written out by name: a new code is
/// `validate` unless it is added here, and this test then checks the declaration agrees.
const DECODE: &[&str] = &[
    "payload.unparseable",
    "payload.too_deep",
    "payload.too_large",
    "payload.duplicate_key",
    "payload.not_object",
    "payload.dtd_forbidden",
    "xml.namespace_unknown",
    "xml.msgdef_mismatch",
    "xml.structure",
    "batch.count_mismatch",
    "xml.root_unknown",
    "field.missing.pix",
    "field.type.pix",
    "field.missing.devolucoes",
    "field.type.devolucoes",
    "field.missing.xml_element",
    "field.type.xml_element",
];

#[test]
fn every_code_has_its_stage() {
    let all: Vec<ReasonCode> = ReasonCode::all().collect();
    for code in &all {
        let want = if DECODE.contains(&code.as_str()) { Stage::Decode } else { Stage::Validate };
        assert_eq!(code.stage(), want, "{code}");
    }
    for name in DECODE {
        assert!(all.iter().any(|c| c.as_str() == *name), "{name} is not a code");
    }
    // The rule of thumb holds: whatever the stage, the prefixes that always mean "unreadable" are Decode.
    for code in all.iter().filter(|c| ["payload.", "xml.", "batch."].iter().any(|p| c.as_str().starts_with(p))) {
        assert_eq!(code.stage(), Stage::Decode, "{code}");
    }
    for code in [
        ReasonCode::CategoryUndeterminable,
        ReasonCode::FieldUnknown,
        ReasonCode::FieldMissing(Field::Amount),
        ReasonCode::Enum(EnumField::Status),
        ReasonCode::TaxIdCheckDigit,
    ] {
        assert_eq!(code.stage(), Stage::Validate, "{code}");
    }
}

#[test]
fn stage_of_a_rejection_is_its_first_reason() {
    let r = |code| Reason::new(code, "", "x");
    assert_eq!(Stage::of(&[r(ReasonCode::PayloadUnparseable)]), Stage::Decode);
    assert_eq!(Stage::of(&[r(ReasonCode::E2eFormat), r(ReasonCode::CategoryUndeterminable)]), Stage::Validate);
    assert_eq!(Stage::of(&[r(ReasonCode::FieldMissing(Field::Pix))]), Stage::Decode);
    assert_eq!(Stage::of(&[]), Stage::Decode);
    assert_eq!((Stage::Decode.as_str(), Stage::Validate.to_string().as_str()), ("decode", "validate"));
}
