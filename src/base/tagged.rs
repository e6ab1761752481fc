//! Deserializing `type`-tagged entries (`sources[]`, later `sinks[]`) without serde's internally
//! tagged enums.
//!
//! serde buffers an internally tagged map into an untyped `Content` before choosing the variant,
//! which throws away the YAML position: an error in `listen` would point at the start of the entry
//! and say nothing about the field. Here only the entries *before* `type` are buffered (usually just
//! `id`); once the tag is known, the variant struct reads the rest of the map straight from the YAML
//! deserializer, so errors keep their line, column and field path.

use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess};

/// A map whose first entries were already read (and buffered as JSON values), then the rest.
pub struct Chain<M> {
    early: std::vec::IntoIter<(String, serde_json::Value)>,
    pending: Option<serde_json::Value>,
    rest: M,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for Chain<M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, M::Error> {
        if let Some((k, v)) = self.early.next() {
            self.pending = Some(v);
            let key: StringDeserializer<M::Error> = k.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        self.rest.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, M::Error> {
        match self.pending.take() {
            Some(v) => seed.deserialize(v).map_err(de::Error::custom),
            None => self.rest.next_value_seed(seed),
        }
    }
}

/// Reads entries until `type`, then hands the tag and the remaining map to `variant`.
pub fn visit_tagged<'de, M, T>(
    mut map: M,
    variant: impl FnOnce(&str, MapAccessDeserializer<Chain<M>>) -> Result<T, M::Error>,
) -> Result<T, M::Error>
where
    M: MapAccess<'de>,
{
    let mut early = Vec::new();
    loop {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::missing_field("type"));
        };
        if key == "type" {
            let tag: String = map.next_value()?;
            let chain = Chain { early: early.into_iter(), pending: None, rest: map };
            return variant(&tag, MapAccessDeserializer::new(chain));
        }
        early.push((key, map.next_value::<serde_json::Value>()?));
    }
}
