//! [`Json`]: the consumed payload parsed once into a tree whose strings borrow from the payload
//! bytes (only a string with escapes is copied). The row conversion reads a few dozen members of
//! each record and copies each once, into its Arrow column; `serde_json::Value` allocated a
//! `String` per string and a map node per member first, which was a sixth of the Delta sink's
//! CPU (README, "The Delta sink end to end"). Semantics follow `Value`: a repeated member keeps
//! its last value, and `as_i64` is `Some` only for an integer that fits.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A parsed JSON value; `'a` is the payload its strings borrow from.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as `serde_json` reads it.
    Number(Number),
    /// A string, borrowed unless it had escapes.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members in document order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses `bytes`; strings borrow from them.
    pub fn parse(bytes: &'a [u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(bytes)
    }

    /// The member `key` of an object (its last occurrence); `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        if let Json::Str(s) = self { Some(s) } else { None }
    }

    /// An integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        if let Json::Number(n) = self { n.as_i64() } else { None }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        if let Json::Bool(b) = self { Some(*b) } else { None }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        if let Json::Array(items) = self { Some(items) } else { None }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// An owned tree from a `serde_json::Value` (tests, benches, callers holding a `Value`).
    pub fn from_value(value: Value) -> Json<'static> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::Str(Cow::Owned(s)),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from_value).collect()),
            Value::Object(map) => {
                Json::Object(map.into_iter().map(|(k, v)| (Cow::Owned(k), Json::from_value(v))).collect())
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Number::from_f64(n).map(Json::Number).ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// A member name, borrowed when it can be (`Cow<str>`'s own `Deserialize` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Json::deserialize(deserializer)? {
            Json::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("a member name that is not a string")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_unless_escaped_and_reads_match_value() {
        let text = br#"{"a":"plain","b":"esc\"aped","n":-5,"big":18446744073709551615,"f":1.5,
            "t":true,"z":null,"l":["x","y"],"o":{"k":"v"},"a":"last"}"#;
        let json = Json::parse(text).unwrap();
        let value: Value = serde_json::from_slice(text).unwrap();
        assert!(matches!(json.get("b"), Some(Json::Str(Cow::Owned(s))) if s == "esc\"aped"));
        assert!(matches!(json.get("o").and_then(|o| o.get("k")), Some(Json::Str(Cow::Borrowed("v")))));
        for key in ["a", "b", "n", "big", "f", "t", "z", "l", "o", "missing"] {
            let (j, v) = (json.get(key), value.get(key));
            assert_eq!(j.and_then(Json::as_str), v.and_then(Value::as_str), "{key}");
            assert_eq!(j.and_then(Json::as_i64), v.and_then(Value::as_i64), "{key}");
            assert_eq!(j.and_then(Json::as_bool), v.and_then(Value::as_bool), "{key}");
            assert_eq!(j.and_then(Json::as_array).map(<[_]>::len), v.and_then(Value::as_array).map(Vec::len));
            assert_eq!(j.is_some_and(Json::is_object), v.is_some_and(Value::is_object), "{key}");
            assert_eq!(j.map(|j| matches!(j, Json::Null)), v.map(Value::is_null), "{key}");
        }
        assert_eq!(Json::from_value(value.clone()).get("a"), json.get("a"));
        assert_eq!(Json::from_value(value).get("l"), json.get("l"));
    }

    #[test]
    fn what_is_not_json_is_refused() {
        for bad in [&b"{\"a\":"[..], b"{1:2}", b"[1,]", b"nul", b""] {
            assert!(Json::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
