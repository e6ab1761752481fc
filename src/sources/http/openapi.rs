//! The OpenAPI 3.1 document of the ingest API (`openapi.json`, served at `GET /v1/openapi.json`),
//! fitted to the source that serves it: every POST route takes the source's one format, so the
//! request body lists that format's media types (the file describes the canonical format).

use pix_domain::formats::{Format, Framing};
use serde_json::{Value, json};

/// The document as written (canonical format).
const DOCUMENT: &str = include_str!("openapi.json");

/// The document of a source of `format`.
pub(super) fn document(format: Format) -> String {
    if format == Format::Canonical {
        return DOCUMENT.to_owned();
    }
    let Ok(mut doc) = serde_json::from_str::<Value>(DOCUMENT) else { return DOCUMENT.to_owned() };
    let mut content = serde_json::Map::new();
    for m in format.wire().media_types() {
        let schema = match m.framing {
            Framing::Json => json!({"type": "object"}),
            Framing::Ndjson | Framing::Xml => json!({"type": "string"}),
        };
        content.entry(m.essence.to_owned()).or_insert(json!({ "schema": schema }));
    }
    let description = format!(
        "One message of the `{}` format (docs/pix-domain.md §7); a message that cannot be decoded as a whole \
         is answered 400 and dead-lettered unchanged.",
        format.name()
    );
    doc["components"]["requestBodies"]["Events"] =
        json!({ "required": true, "description": description, "content": content });
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_and_each_format_gets_its_own_media_types() {
        for format in Format::ALL.iter().filter(|f| !f.wire().media_types().is_empty()) {
            let doc: Value = serde_json::from_str(&document(*format)).unwrap();
            assert_eq!(doc["openapi"], "3.1.0");
            let content = doc["components"]["requestBodies"]["Events"]["content"].as_object().unwrap();
            for m in format.wire().media_types() {
                assert!(content.contains_key(m.essence), "{format}: {}", m.essence);
            }
        }
    }
}
