//! Splitting an HTTP body into items, and parsing one item into a JSON tree with the payload checks.
//!
//! Owns `payload.unparseable`, `payload.too_deep` and `payload.duplicate_key`. Leaves every field rule
//! to [`crate::validate`]. Errors are classified by what we observed (UTF-8 check, our own depth
//! scan, our own duplicate detector), never by comparing serde_json's error messages.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::reason::{Reason, ReasonCode};

/// Deepest nesting (containers, the item's own top-level object counts as 1) an item may have.
///
/// `docs/pix-domain.md §7.2`. serde_json (without its `unbounded_depth` feature, which we will not
/// switch on for the whole workspace) fails on the 128th nested container
/// (`docs/engineering-notes.md §4`), so the limit is 127 per item. We check it ourselves, before
/// parsing, so an over-deep item is reported as `payload.too_deep` and never reaches serde_json's
/// recursion error. In a JSON array body the wrapping array does not count against its elements.
pub const MAX_DEPTH: usize = 127;

/// How a JSON body is framed, for [`split_body`].
///
/// Callers outside this crate should use [`crate::formats::Framing`] with
/// [`crate::formats::Format::decode`]; this one stays while the service still names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// One JSON object (one item) or a JSON array (one item per element).
    Json,
    /// Newline-delimited JSON: one item per non-blank line.
    Ndjson,
}

/// One item of a body: its position and its exact original bytes (what goes to the DLQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    /// 0-based position among the body's items (array element, or non-blank NDJSON line).
    pub index: usize,
    /// The item's bytes, a slice of the original body.
    pub bytes: &'a [u8],
}

/// Splits `body` into items.
///
/// - `Json`: an object → one item; an array → one item per element (exact element bytes). Anything
///   else (not UTF-8, not JSON, a scalar, empty) → `Err(payload.unparseable)`; nesting beyond
///   [`MAX_DEPTH`] → `Err(payload.too_deep)`. An empty array yields no items.
/// - `Ndjson`: one item per line that is not blank, a trailing `\r` stripped. A bad line does not
///   fail the body: it becomes an item that [`crate::validate::validate_canonical`] rejects, so its
///   siblings still go through. Invalid UTF-8 is likewise judged per line. A body with no
///   non-blank line → `Err(payload.unparseable)`.
pub fn split_body(body: &[u8], format: BodyFormat) -> Result<Vec<Item<'_>>, Reason> {
    match format {
        BodyFormat::Json => split_json(body),
        BodyFormat::Ndjson => split_ndjson(body),
    }
}

fn split_json(body: &[u8]) -> Result<Vec<Item<'_>>, Reason> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Reason::unparseable(format!("body is not UTF-8 (byte {})", e.valid_up_to())))?;
    let first = text.trim_start_matches([' ', '\t', '\r', '\n']).as_bytes().first().copied();
    let allowed = match first {
        Some(b'{') => MAX_DEPTH,
        Some(b'[') => MAX_DEPTH + 1,
        Some(_) => return Err(Reason::unparseable("body is not a JSON object or array")),
        None => return Err(Reason::unparseable("body is empty")),
    };
    if max_depth(body) > allowed {
        return Err(too_deep());
    }
    if first == Some(b'{') {
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| syntax(&e))?;
        return Ok(vec![Item { index: 0, bytes: raw.get().as_bytes() }]);
    }
    let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| syntax(&e))?;
    Ok(elements.into_iter().enumerate().map(|(index, raw)| Item { index, bytes: raw.get().as_bytes() }).collect())
}

fn split_ndjson(body: &[u8]) -> Result<Vec<Item<'_>>, Reason> {
    let items: Vec<Item<'_>> = body
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')))
        .enumerate()
        .map(|(index, bytes)| Item { index, bytes })
        .collect();
    if items.is_empty() { Err(Reason::unparseable("body has no non-blank line")) } else { Ok(items) }
}

/// Parses one canonical item into a JSON tree, with UTF-8, depth, syntax and duplicate-key checks.
pub(crate) fn parse_item(bytes: &[u8]) -> Result<Value, Vec<Reason>> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(vec![Reason::unparseable(format!("item is not UTF-8 (byte {})", e.valid_up_to()))]);
    }
    if max_depth(bytes) > MAX_DEPTH {
        return Err(vec![too_deep()]);
    }
    let mut duplicates = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = ValueSeed { path: String::new(), duplicates: &mut duplicates }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| vec![syntax(&e)])?;
    if duplicates.is_empty() {
        Ok(value)
    } else {
        Err(duplicates
            .into_iter()
            .map(|path| Reason::new(ReasonCode::PayloadDuplicateKey, path, "member name repeated in one object"))
            .collect())
    }
}

fn too_deep() -> Reason {
    Reason::new(ReasonCode::PayloadTooDeep, "", format!("nesting deeper than {MAX_DEPTH} levels"))
}

/// A syntax error, described by category and position only (serde_json messages can quote input).
fn syntax(e: &serde_json::Error) -> Reason {
    Reason::unparseable(format!("invalid JSON ({:?}) at line {} column {}", e.classify(), e.line(), e.column()))
}

/// Deepest container nesting in `bytes`, skipping string contents. Linear, no allocation; on
/// malformed input it is only an estimate, which is fine: the parser then reports the syntax error.
pub(crate) fn max_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Builds a `serde_json::Value` like serde_json does, but records every repeated member name
/// (serde_json silently keeps the last one, which would let `"valor"` be smuggled twice).
struct ValueSeed<'a> {
    path: String,
    duplicates: &'a mut Vec<String>,
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON cannot carry NaN/inf, so from_f64 only fails on input serde_json never produces.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let path = format!("{}[{}]", self.path, out.len());
            match seq.next_element_seed(ValueSeed { path, duplicates: &mut *self.duplicates })? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = child_path(&self.path, &key);
            let value = map.next_value_seed(ValueSeed { path: path.clone(), duplicates: &mut *self.duplicates })?;
            if out.insert(key, value).is_some() {
                self.duplicates.push(path);
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn object_is_one_item() {
        let body = br#"  {"a": 1}  "#;
        let items = split_body(body, BodyFormat::Json).unwrap();
        assert_eq!(items, vec![Item { index: 0, bytes: br#"{"a": 1}"# }]);
    }

    #[test]
    fn array_items_are_exact_bytes() {
        let body = b"[ {\"a\" : 1} ,\n  {\"b\":[1, 2]},{}]";
        let items = split_body(body, BodyFormat::Json).unwrap();
        let got: Vec<&[u8]> = items.iter().map(|i| i.bytes).collect();
        assert_eq!(got, vec![&b"{\"a\" : 1}"[..], b"{\"b\":[1, 2]}", b"{}"]);
        assert_eq!(items[2].index, 2);
        assert!(split_body(b"[]", BodyFormat::Json).unwrap().is_empty());
    }

    #[test]
    fn not_json_bodies() {
        for body in [&b""[..], b"   ", b"42", b"\"x\"", b"null", b"{", b"[1,", b"{}x", b"\xff\xfe", b"{\"a\":\"\xff\"}"]
        {
            let err = split_body(body, BodyFormat::Json).unwrap_err();
            assert_eq!(err.code, ReasonCode::PayloadUnparseable, "{body:?}");
        }
    }

    #[test]
    fn depth_limits() {
        // A body of nested arrays: its elements may be MAX_DEPTH deep.
        assert!(split_body(nested(MAX_DEPTH + 1).as_bytes(), BodyFormat::Json).is_ok());
        assert_eq!(
            split_body(nested(MAX_DEPTH + 2).as_bytes(), BodyFormat::Json).unwrap_err().code,
            ReasonCode::PayloadTooDeep
        );
        assert_eq!(split_body(nested(5000).as_bytes(), BodyFormat::Json).unwrap_err().code, ReasonCode::PayloadTooDeep);
        // An item: MAX_DEPTH parses, one more is too deep (never serde_json's recursion error).
        let ok = format!("{{\"a\":{}}}", nested(MAX_DEPTH - 1));
        assert!(parse_item(ok.as_bytes()).is_ok());
        let deep = format!("{{\"a\":{}}}", nested(MAX_DEPTH));
        assert_eq!(parse_item(deep.as_bytes()).unwrap_err()[0].code, ReasonCode::PayloadTooDeep);
        let deep129 = format!("{{\"a\":{}}}", nested(128));
        assert_eq!(parse_item(deep129.as_bytes()).unwrap_err()[0].code, ReasonCode::PayloadTooDeep);
        // Brackets inside strings do not count.
        assert_eq!(max_depth(br#"{"a":"[[[[\"[["}"#), 1);
    }

    #[test]
    fn ndjson_lines() {
        let body = b"{\"a\":1}\r\n\n   \n{not json\n{\"b\":2}";
        let items = split_body(body, BodyFormat::Ndjson).unwrap();
        let got: Vec<(usize, &[u8])> = items.iter().map(|i| (i.index, i.bytes)).collect();
        assert_eq!(got, vec![(0, &b"{\"a\":1}"[..]), (1, b"{not json"), (2, b"{\"b\":2}")]);
        assert_eq!(parse_item(items[1].bytes).unwrap_err()[0].code, ReasonCode::PayloadUnparseable);
        assert!(parse_item(items[2].bytes).is_ok());
        for empty in [&b""[..], b"\n\r\n  \n"] {
            assert_eq!(split_body(empty, BodyFormat::Ndjson).unwrap_err().code, ReasonCode::PayloadUnparseable);
        }
        assert_eq!(parse_item(b"{\"a\":\"\xff\"}").unwrap_err()[0].code, ReasonCode::PayloadUnparseable);
    }

    #[test]
    fn duplicate_keys_at_any_depth() {
        let reasons = parse_item(br#"{"valor":"1.00","x":{"y":[{"k":1,"k":2}]},"valor":"950000.00"}"#).unwrap_err();
        let mut paths: Vec<_> = reasons.iter().map(|r| (r.code, r.path.as_str())).collect();
        paths.sort();
        assert_eq!(
            paths,
            vec![(ReasonCode::PayloadDuplicateKey, "valor"), (ReasonCode::PayloadDuplicateKey, "x.y[0].k")]
        );
        assert!(parse_item(br#"{"a":{"k":1},"b":{"k":1}}"#).is_ok());
    }

    #[test]
    fn syntax_error_detail_does_not_quote_input() {
        let r = &parse_item(br#"{"cpf": 52998224725x}"#).unwrap_err()[0];
        assert!(!r.detail.contains("52998224725"), "{}", r.detail);
    }
}
