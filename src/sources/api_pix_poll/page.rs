//! One `GET /pix` page as pipeline inputs: the page is split into its `pix[]` items (their bytes
//! unchanged), each decoded by the API Pix decoder (`bcb_webhook`, which reads the GET /pix shape)
//! in an envelope of its own with the page's `parametros`, so a dead letter carries that item
//! alone and an item seen again in an overlapping window has the same identity. A page that is
//! not the GET /pix shape at all is decoded whole, which dead-letters it with the decoder's
//! reason and the page's bytes.
//!
//! Identity of what is published, for the poller's recent-ids set: `<category>:<event id>` for
//! an event, `rejected:<digest of the item>:<n>` for the n-th refused part of an item.

use chrono::{DateTime, Utc};
use pix_domain::formats::{Format, Framing};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::sources::ValidationSettings;
use crate::sources::decoding::decode_body;
use crate::sources::pipeline::ItemInput;

/// A page split into item documents.
#[derive(Debug)]
pub struct Split {
    /// `{"parametros": ..., "pix": [item]}` per item, in page order.
    pub docs: Vec<Vec<u8>>,
    /// A digest of each item's own bytes (without the page's `parametros`, which name the
    /// window and the page): its identity when refused.
    pub digests: Vec<String>,
    /// `parametros.paginacao.quantidadeDePaginas`, when the page says.
    pub pages: Option<u32>,
}

#[derive(Deserialize)]
struct PageDoc<'a> {
    #[serde(borrow, default)]
    parametros: Option<&'a RawValue>,
    #[serde(borrow)]
    pix: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Parametros {
    #[serde(default)]
    paginacao: Option<Paginacao>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paginacao {
    #[serde(default)]
    quantidade_de_paginas: Option<u32>,
}

/// Splits a page; `None` when it is not the GET /pix shape (the caller decodes it whole).
pub fn split(body: &[u8]) -> Option<Split> {
    let page: PageDoc<'_> = serde_json::from_slice(body).ok()?;
    let parametros = page.parametros.map_or("{}", RawValue::get);
    let pages = serde_json::from_str::<Parametros>(parametros).ok().and_then(|p| p.paginacao?.quantidade_de_paginas);
    let docs = page
        .pix
        .iter()
        .map(|item| format!(r#"{{"parametros":{parametros},"pix":[{}]}}"#, item.get()).into_bytes())
        .collect();
    let digests = page.pix.iter().map(|item| digest(item.get().as_bytes())).collect();
    Some(Split { docs, digests, pages })
}

/// An input and where it came from.
pub struct Keyed {
    /// The input.
    pub input: ItemInput,
    /// Which item document it came from.
    pub doc: usize,
    /// Its part within the item (0 the Pix, then its devoluções).
    pub part: usize,
}

/// Decodes item documents `which` of `docs` into inputs numbered in page order. `first` holds the
/// index of each document's first part: filled by the first call (which must decode every
/// document, in order), reused by later ones (retries of some documents) so indexes stay put.
pub fn decode(
    docs: &[Vec<u8>],
    which: &[usize],
    first: &mut Vec<usize>,
    settings: &ValidationSettings,
    source_id: &str,
    received_at: DateTime<Utc>,
) -> Vec<Keyed> {
    let numbering = first.len() != docs.len();
    let mut out = Vec::new();
    for &doc in which {
        let bytes = &docs[doc];
        let inputs = match decode_body(Format::BcbWebhook, Framing::Json, bytes, settings, source_id, received_at, None)
        {
            Ok(items) => items,
            Err(verdict) => {
                vec![ItemInput { index: 0, bytes: bytes.clone(), verdict: Err(verdict), end_to_end_id: None }]
            }
        };
        if numbering {
            first.push(out.len());
        }
        let base = first.get(doc).copied().unwrap_or_default();
        out.extend(inputs.into_iter().enumerate().map(|(part, mut input)| {
            input.index = base + part;
            Keyed { input, doc, part }
        }));
    }
    out
}

/// A digest of bytes (128 bits, hex).
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// The identity of part `part` of an item (`digest`) when refused.
pub fn rejected_key(digest: &str, part: usize) -> String {
    format!("rejected:{digest}:{part}")
}

/// The identity of a published event.
pub fn event_key(category: &str, event_id: &str) -> String {
    format!("{category}:{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_split_into_items_with_their_bytes_and_the_page_count() {
        let body =
            br#"{"parametros":{"inicio":"2020-04-01T00:00:00Z","paginacao":{"paginaAtual":0,"quantidadeDePaginas":3}},
            "pix":[{"endToEndId":"E1", "valor":"1.00"}, {"endToEndId" : "E2"}]}"#;
        let s = split(body).unwrap();
        assert_eq!(s.pages, Some(3));
        assert_eq!((s.docs.len(), s.digests.len()), (2, 2));
        let page2 = br#"{"parametros":{"paginacao":{"paginaAtual":7}},"pix":[{"endToEndId" : "E2"}]}"#;
        assert_eq!(split(page2).unwrap().digests[0], s.digests[1], "an item's identity ignores the page");
        let second = String::from_utf8(s.docs[1].clone()).unwrap();
        assert!(second.ends_with(r#""pix":[{"endToEndId" : "E2"}]}"#), "{second}");
        assert!(second.starts_with(r#"{"parametros":{"inicio""#), "{second}");
        assert!(split(b"[1]").is_none() && split(b"{\"pix\": 3}").is_none() && split(b"nope").is_none());
        assert_eq!(split(br#"{"pix":[]}"#).unwrap().pages, None);
    }

    #[test]
    fn identities_are_stable_and_distinct() {
        let (x, y) = (digest(b"x"), digest(b"y"));
        assert_eq!(rejected_key(&x, 1), rejected_key(&digest(b"x"), 1));
        assert_ne!(rejected_key(&x, 1), rejected_key(&x, 2));
        assert_ne!(rejected_key(&x, 1), rejected_key(&y, 1));
        assert_eq!(event_key("receipt", "E1:TRANSFER:SETTLED"), "receipt:E1:TRANSFER:SETTLED");
    }
}
