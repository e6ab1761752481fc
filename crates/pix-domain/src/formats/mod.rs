//! Wire formats other than "canonical JSON item by item": one decoder per format, all funnelling
//! into the one validator ([`crate::validate`]), so Pix rules live in exactly one place.
//!
//! ```text
//!  body ──► decode(format) ──► envelope checks (Err = whole message to the DLQ)
//!                 │
//!                 └─► per item: map onto the canonical JSON shape ──► validate (Authority::Declared)
//!                                 + format flags, source.kind / msg_def  ──► DecodedItem { verdict }
//! ```
//!
//! - [`canonical`]: the service's own format (`split_body` + `validate_canonical`, unchanged).
//! - [`bcb_webhook`]: BCB API Pix webhook `{"pix": [...]}` and the GET /pix response.
//! - [`spi`]: ISO 20022 SPI XML (pacs.008 / pacs.004 / pacs.002 in the BCB `Envelope`).
//! - [`log_line`]: one log line carrying either a canonical JSON event or an SPI XML message.
//!
//! Every decoder is total: any byte string yields `Ok` or `Err`, never a panic (fuzzed by
//! `crates/pix-domain/fuzz`). Reason details never quote payload values.

pub mod bcb_webhook;
pub mod canonical;
pub mod log_line;
pub mod spi;

#[cfg(test)]
mod tests;

use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use canonical::decode_canonical;

use crate::event::{Category, Direction, Flag, Ispb, PixEvent};
use crate::reason::Reason;
use crate::validate::{Authority, CheckDigitPolicy, ValidationContext, validate_with};

/// Wire format of a source (`sources[].format` in the YAML config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Canonical JSON events (object, array, or NDJSON when the caller says so).
    Canonical,
    /// BCB API Pix webhook body `{"pix": [...]}` (also the GET /pix response).
    BcbWebhook,
    /// ISO 20022 SPI XML message (pacs.008 / pacs.004 / pacs.002).
    SpiXml,
    /// One line of a system log: canonical JSON or SPI XML after an optional prefix.
    LogLine,
}

/// Everything a decoder needs besides the bytes.
#[derive(Debug, Clone)]
pub struct DecodeContext {
    /// Our ISPBs (including indirect participants we settle for); the first one is "us" where a
    /// format does not name our ISPB (the API Pix webhook is always addressed to us).
    pub own_ispbs: Vec<Ispb>,
    /// Check-digit policy for tax ids.
    pub tax_id_check_digits: CheckDigitPolicy,
    /// Stamped as `ingested_at`.
    pub ingested_at: DateTime<Utc>,
    /// Id of the pix-ingest source, copied to `source.id`.
    pub source_id: String,
}

/// Which bytes a dead letter for an item carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemBytes {
    /// This range of the body (canonical array element, NDJSON line, the JSON part of a log line).
    Slice(Range<usize>),
    /// The whole body (API Pix webhook and SPI XML: PIX.md §1.6 "the whole original bytes plus
    /// the index", because an item cut out of its envelope no longer means anything).
    Whole,
}

impl ItemBytes {
    /// The bytes of `body` this item refers to (empty if the range does not fit `body`).
    pub fn of<'a>(&self, body: &'a [u8]) -> &'a [u8] {
        match self {
            ItemBytes::Slice(r) => body.get(r.clone()).unwrap_or_default(),
            ItemBytes::Whole => body,
        }
    }
}

/// One item of a message and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedItem {
    /// Item index in the message (array element / NDJSON line / webhook item / SPI transaction).
    pub index: usize,
    /// What the dead letter carries.
    pub raw: ItemBytes,
    /// Events to publish (two for an intra-PSP transfer) or the hard reasons (never empty).
    pub verdict: Result<Vec<PixEvent>, Vec<Reason>>,
    /// The item's endToEndId when readable (ASCII alphanumeric, ≤ 35 chars: an id, never PII).
    pub end_to_end_id: Option<String>,
}

/// Decodes `body` in `format`.
///
/// `Err` = the envelope is unusable and the whole message goes to the DLQ; `Ok` = one verdict per
/// item. For [`Format::Canonical`] the body is framed as JSON (object or array); use
/// [`decode_canonical`] to pass NDJSON.
pub fn decode(format: Format, body: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    match format {
        Format::Canonical => decode_canonical(body, crate::decode::BodyFormat::Json, ctx),
        Format::BcbWebhook => bcb_webhook::decode(body, ctx),
        Format::SpiXml => spi::decode(body, ctx),
        Format::LogLine => log_line::decode(body, ctx),
    }
}

/// An item mapped onto the canonical shape by an adapter, with what the adapter decided.
pub(crate) struct Mapped {
    /// The canonical JSON object (only schema-v1 members; no `category`/`direction`).
    pub value: Map<String, Value>,
    /// Placements the adapter states authoritatively (PIX.md §6).
    pub placements: Vec<(Category, Direction)>,
    /// Both sides ours.
    pub intra_psp: bool,
    /// Format-level soft findings, merged into the validator's.
    pub flags: Vec<Flag>,
}

/// What is the same for every item of one message.
pub(crate) struct Envelope<'a> {
    pub ctx: &'a DecodeContext,
    /// `source.kind`.
    pub kind: &'static str,
    /// `source.msg_def` (SPI only).
    pub msg_def: Option<String>,
    /// SHA-256 of the whole body: the dead letter and the raw archive hold the whole message.
    pub raw_sha256: String,
}

impl<'a> Envelope<'a> {
    pub(crate) fn new(ctx: &'a DecodeContext, kind: &'static str, body: &[u8]) -> Self {
        Envelope { ctx, kind, msg_def: None, raw_sha256: hex::encode(Sha256::digest(body)) }
    }

    /// Runs the shared validator on a mapped item and stamps the format's provenance and flags.
    pub(crate) fn validate(&self, index: usize, mapped: Mapped) -> Result<Vec<PixEvent>, Vec<Reason>> {
        let vctx = ValidationContext {
            own_ispbs: self.ctx.own_ispbs.clone(),
            tax_id_check_digits: self.ctx.tax_id_check_digits,
            ingested_at: self.ctx.ingested_at,
            source_id: self.ctx.source_id.clone(),
            source_kind: self.kind.to_owned(),
            item_index: index,
        };
        let authority = Authority::Declared { placements: mapped.placements, intra_psp: mapped.intra_psp };
        // Serialising a Value we built cannot fail (string keys only); an empty body would be
        // rejected by the validator as unparseable, never a panic.
        let bytes = serde_json::to_vec(&Value::Object(mapped.value)).unwrap_or_default();
        let accepted = validate_with(&bytes, &vctx, &authority).map_err(|r| r.reasons)?;
        Ok(accepted
            .into_iter()
            .map(|a| {
                let mut e = a.event;
                e.source.msg_def.clone_from(&self.msg_def);
                e.source.raw_sha256.clone_from(&self.raw_sha256);
                for f in &mapped.flags {
                    if !e.flags.contains(f) {
                        e.flags.push(*f);
                    }
                }
                e.flags.sort();
                e
            })
            .collect())
    }
}

/// An id for reports: ASCII alphanumeric and at most 35 characters, else `None` (never PII).
pub(crate) fn readable_id(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty() && s.len() <= 35 && s.bytes().all(|b| b.is_ascii_alphanumeric())).map(str::to_owned)
}

/// The 8-character ISPB embedded in an E/D id, when it has the ISPB shape.
pub(crate) fn embedded_ispb(id: &str) -> Option<Ispb> {
    id.get(1..9).and_then(|s| s.parse().ok())
}

/// Inserts `key` when `value` is present.
pub(crate) fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v);
    }
}
