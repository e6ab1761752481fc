//! Maps a field path (`sources[1].id`) back to its line in the YAML text, for errors found after
//! parsing (cross-field checks). The document is parsed a second time into a tree of spanned
//! nodes; this runs only when there is an error to report.

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

enum Node {
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<KeyText>()? {
                    out.push((k.0, m.next_value::<Spanned<Node>>()?));
                }
                Ok(Node::Map(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(n) = s.next_element::<Spanned<Node>>()? {
                    out.push(n);
                }
                Ok(Node::Seq(out))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping key rendered as text (keys may be numbers or booleans in YAML).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Splits `a.b[2].c` into segments.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Segment::Key(name));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else { break };
            if let Ok(i) = stripped[..end].parse() {
                out.push(Segment::Index(i));
            }
            rest = &stripped[end + 1..];
        }
    }
    out
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The (line, column) of the deepest node on `path` that exists in `yaml`. A key may itself contain
/// dots (`kafka.properties.sasl.mechanism`): the longest run of segments that names a key wins.
pub(crate) fn locate(yaml: &str, path: &str) -> Option<(u64, u64)> {
    let root: Node = serde_saphyr::from_str(yaml).ok()?;
    let segs = segments(path);
    let mut node = &root;
    let mut found = None;
    let mut i = 0;
    while i < segs.len() {
        let (next, used) = match (node, &segs[i]) {
            (Node::Map(entries), Segment::Key(_)) => dotted_key(entries, &segs[i..]),
            (Node::Seq(items), Segment::Index(n)) => (items.get(*n), 1),
            _ => (None, 1),
        };
        let Some(next) = next else { break };
        found = Some((next.referenced.line(), next.referenced.column()));
        node = &next.value;
        i += used;
    }
    found
}

/// The entry named by the longest run of key segments joined with dots, and how many it took.
fn dotted_key<'n>(entries: &'n [(String, Spanned<Node>)], segs: &[Segment<'_>]) -> (Option<&'n Spanned<Node>>, usize) {
    let keys: Vec<&str> = segs
        .iter()
        .map_while(|s| match s {
            Segment::Key(k) => Some(*k),
            Segment::Index(_) => None,
        })
        .collect();
    for n in (1..=keys.len()).rev() {
        let name = keys[..n].join(".");
        if let Some((_, v)) = entries.iter().find(|(k, _)| *k == name) {
            return (Some(v), n);
        }
    }
    (None, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let yaml = "a: 1\nsources:\n  - id: x\n    listen: 1\n  - id: y\n    listen: 2\n";
        assert_eq!(locate(yaml, "sources[1].listen").map(|l| l.0), Some(6));
        assert_eq!(locate(yaml, "sources[0].id").map(|l| l.0), Some(3));
        assert_eq!(locate(yaml, "a").map(|l| l.0), Some(1));
        // a missing leaf resolves to its deepest existing parent
        assert_eq!(locate(yaml, "sources[1].nope").map(|l| l.0), Some(5));
    }

    #[test]
    fn finds_keys_with_dots() {
        let yaml = "kafka:\n  properties:\n    security.protocol: SSL\n    sasl.mechanism: X\n";
        assert_eq!(locate(yaml, "kafka.properties.sasl.mechanism").map(|l| l.0), Some(4));
        assert_eq!(locate(yaml, "kafka.properties.security.protocol").map(|l| l.0), Some(3));
    }
}
