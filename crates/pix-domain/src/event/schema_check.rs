//! Test-only: a small JSON Schema (2020-12) checker for the keywords our schema file uses, and the
//! tests that keep `schema/pix-event.v1.schema.json` and [`PixEvent`] in sync.
//!
//! Why not the `jsonschema` crate: it roughly doubles this crate's build (HTTP resolver, fancy-regex,
//! IDNA…) for a dozen keywords. `schema_uses_only_supported_keywords` guards the trade-off: if
//! someone adds a keyword this checker does not implement, that test fails instead of the keyword
//! being silently ignored.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::{Value, json};

use super::{FRAUD_REPORT_SCHEMA_V1, FraudReport, PIX_EVENT_SCHEMA_V1, PixEvent};

const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "allOf",
    "not",
];

fn schema() -> Value {
    serde_json::from_str(PIX_EVENT_SCHEMA_V1).unwrap()
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("unsupported $ref {r}"));
            &root["$defs"][name]
        }
        None => s,
    }
}

/// Errors of `v` against schema node `s` (empty = valid).
fn check(root: &Value, s: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let s = resolve(root, s);
    let mut err = |m: String| errors.push(format!("{path}: {m}"));
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "boolean" => v.is_boolean(),
            other => panic!("unsupported type {other}"),
        };
        if !ok {
            err(format!("expected {t}, got {v}"));
            return;
        }
    }
    if let Some(c) = s.get("const").filter(|c| *c != v) {
        err(format!("expected const {c}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array).filter(|e| !e.contains(v)) {
        err(format!("{v} not in {e:?}"));
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str())
        && !Regex::new(p).unwrap().is_match(text)
    {
        err(format!("{text:?} does not match {p}"));
    }
    if let Some(text) = v.as_str() {
        let n = text.chars().count() as u64;
        if s.get("minLength").and_then(Value::as_u64).is_some_and(|m| n < m) {
            err("too short".into());
        }
        if s.get("maxLength").and_then(Value::as_u64).is_some_and(|m| n > m) {
            err("too long".into());
        }
    }
    if let Some(n) = v.as_i64() {
        if s.get("minimum").and_then(Value::as_i64).is_some_and(|m| n < m) {
            err(format!("{n} below minimum"));
        }
        if s.get("maximum").and_then(Value::as_i64).is_some_and(|m| n > m) {
            err(format!("{n} above maximum"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap_or_default()) {
                errors.push(format!("{path}: missing {r}"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(root, ps, child, &format!("{path}.{k}"), errors),
                None if s.get("additionalProperties") == Some(&json!(false)) => {
                    errors.push(format!("{path}: unexpected member {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), errors);
        }
    }
    for sub in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(root, sub, v, path, errors);
    }
    if let Some(not) = s.get("not") {
        let mut inner = Vec::new();
        check(root, not, v, path, &mut inner);
        if inner.is_empty() {
            errors.push(format!("{path}: matches a `not` schema"));
        }
    }
}

/// Panics unless `event` serializes to a document valid against the schema file.
pub(crate) fn assert_valid(event: &PixEvent) {
    let root = schema();
    let v = serde_json::to_value(event).unwrap();
    let mut errors = Vec::new();
    check(&root, &root, &v, "$", &mut errors);
    assert!(errors.is_empty(), "event does not match pix-event.v1.schema.json: {errors:#?}");
}

/// Panics unless `report` serializes to a document valid against `fraud-report.v1.schema.json`.
pub(crate) fn assert_valid_report(report: &FraudReport) {
    let root: Value = serde_json::from_str(FRAUD_REPORT_SCHEMA_V1).unwrap();
    let v = serde_json::to_value(report).unwrap();
    let mut errors = Vec::new();
    check(&root, &root, &v, "$", &mut errors);
    assert!(errors.is_empty(), "report does not match fraud-report.v1.schema.json: {errors:#?}");
}

/// Every member name the schema allows at `pointer` (an object schema node, `$ref` resolved).
fn schema_members(root: &Value, node: &Value) -> BTreeSet<String> {
    let node = resolve(root, node);
    let mut out: BTreeSet<String> =
        node.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default();
    for sub in node.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        out.extend(schema_members(root, sub));
    }
    out
}

fn members(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn schema_uses_only_supported_keywords() {
    fn walk(v: &Value, in_properties: bool) {
        if let Some(obj) = v.as_object() {
            for (k, child) in obj {
                if !in_properties {
                    assert!(KEYWORDS.contains(&k.as_str()), "schema keyword {k} is not checked by schema_check.rs");
                }
                // Children of `properties`/`$defs` are names, not keywords.
                walk(child, !in_properties && (k == "properties" || k == "$defs"));
            }
        } else if let Some(arr) = v.as_array() {
            arr.iter().for_each(|x| walk(x, false));
        }
    }
    for s in [schema(), serde_json::from_str(FRAUD_REPORT_SCHEMA_V1).unwrap()] {
        walk(&s, false);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
}

#[test]
fn schema_and_struct_have_the_same_members() {
    // An event with every optional member filled, so its JSON shows every name PixEvent can write.
    let mut event = crate::validate::tests::maximal_event();
    event.source.msg_def = Some("pacs.004.spi.1.5".into());
    assert_valid(&event);
    let v = serde_json::to_value(&event).unwrap();
    let root = schema();
    let props = &root["properties"];
    assert_eq!(members(&v), schema_members(&root, &root), "top level");
    for (member, node) in [("payer", &props["payer"]), ("payee", &props["payee"]), ("source", &props["source"])] {
        assert_eq!(members(&v[member]), schema_members(&root, node), "{member}");
    }
    assert_eq!(
        members(&v["payer"]["account"]),
        schema_members(&root, &root["$defs"]["party"]["properties"]["account"])
    );
    assert_eq!(members(&v["amount_breakdown"]), schema_members(&root, &props["amount_breakdown"]));
    assert_eq!(members(&v["amount_breakdown"]["saque"]), schema_members(&root, &root["$defs"]["component"]));
}

#[test]
fn fraud_report_schema_and_struct_have_the_same_members() {
    // A refund report with every optional member filled (the DICT's close response shape).
    let body = std::fs::read(format!("{}bcb-dict-api/refunds/ListRefundsResponse.xml", crate::SAMPLES)).unwrap();
    let ctx = crate::formats::DecodeContext {
        own_ispbs: vec!["99999010".parse().unwrap()],
        tax_id_check_digits: crate::validate::CheckDigitPolicy::Strict,
        unknown_fields: crate::validate::UnknownFields::Reject,
        ingested_at: chrono::DateTime::UNIX_EPOCH,
        source_id: "t".into(),
    };
    let got = crate::formats::decode(crate::formats::Format::DictXml, &body, &ctx).unwrap();
    let mut report = got[0].verdict.as_ref().unwrap()[0].as_fraud_report().unwrap().clone();
    report.participant = report.contested_participant.clone();
    report.credited_participant = report.contested_participant.clone();
    report.debited_participant = report.requesting_participant.clone();
    report.reported_by = Some(super::ReportedBy::DebitedParticipant);
    report.infraction_type = Some("FRAUD".into());
    report.transaction_type = Some("SPI".into());
    report.transaction_result = Some("SETTLED".into());
    report.transaction_time = report.created_at;
    assert_valid_report(&report);
    let root: Value = serde_json::from_str(FRAUD_REPORT_SCHEMA_V1).unwrap();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(members(&v), schema_members(&root, &root), "top level");
    assert_eq!(members(&v["source"]), schema_members(&root, &root["properties"]["source"]));
}

#[test]
fn checker_rejects_what_it_should() {
    let mut event = crate::validate::tests::maximal_event();
    let root = schema();
    let mut v = serde_json::to_value(&event).unwrap();
    v["extra"] = json!(1);
    v["local_hour"] = json!(24);
    v["amount"] = json!("0.00");
    v.as_object_mut().unwrap().remove("flags");
    let mut errors = Vec::new();
    check(&root, &root, &v, "$", &mut errors);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    event.flags.clear();
    assert_valid(&event);
}
