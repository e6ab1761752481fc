//! Wire formats: one decoder per format behind one interface ([`WireFormat`]), all funnelling
//! into the one validator ([`crate::validate`]), so Pix rules live in exactly one place.
//!
//! ```text
//!  body ──► Format::decode(framing) ──► envelope checks (Err = whole message to the DLQ)
//!                 │
//!                 └─► per item: map onto the canonical JSON shape ──► validate (Authority::Declared)
//!                                 + format flags, source.kind / msg_def  ──► DecodedItem { verdict }
//! ```
//!
//! - [`canonical`]: the service's own format (`split_body` + `validate_canonical`, unchanged).
//! - [`bcb_webhook`]: BCB API Pix webhook `{"pix": [...]}` and the GET /pix response.
//! - [`spi`]: ISO 20022 SPI XML (pacs.008 / pacs.004 / pacs.002 in the BCB `Envelope`).
//! - [`log_line`]: one log line carrying either a canonical JSON event or an SPI XML message.
//! - [`dict`]: DICT API XML infraction reports and MED refund requests (fraud reports, not
//!   canonical events: judged by [`crate::validate::fraud`], published as [`Published::FraudReport`]).
//!
//! Every decoder is total: any byte string yields `Ok` or `Err`, never a panic (fuzzed by
//! `crates/pix-domain/fuzz`). Reason details never quote payload values.
//!
//! # Adding a wire format
//!
//! A format is one file (or folder), one [`Format`] variant and one match arm; nothing outside this
//! crate names it. Step by step:
//! 1. Write `formats/<name>.rs` (a folder `formats/<name>/` when it has several message types)
//!    with a unit struct implementing [`WireFormat`]:
//!    - [`WireFormat::media_types`]: the Content-Types an HTTP source accepts, the default first;
//!      empty when the format is not served over HTTP.
//!    - [`WireFormat::line_oriented`]: whether a file source may read it one message per line.
//!    - [`WireFormat::decode`]: check the envelope (an unusable one is `Err`, the whole message
//!      goes to the DLQ), then give one [`DecodedItem`] per item. Map each item onto the canonical
//!      JSON shape and judge it with [`Envelope::validate`], which runs the shared validator with
//!      the placements the format states, so no Pix rule is written twice. Say which bytes each
//!      dead letter carries ([`ItemBytes`]). Never panic, never quote a payload value in a detail.
//! 2. Declare the module below (`pub mod <name>;`).
//! 3. Add one line to the `wire_formats!` list below: its doc, the variant, the name used in the
//!    YAML config (written only there: [`Format::name`] and serde both read it) and the struct.
//!    That line is the variant, its config name and its arm in [`Format::wire`].
//! 4. If the format can refuse something no existing code describes, add the code to
//!    `reason/code.rs` with its stage (`@ Decode` when the bytes cannot be read as a message or an
//!    item of the format, `@ Validate` for a rule violation); the DLQ stage follows from it.
//! 5. Tests: a table test over its real public samples (copied into `tests/data/` with their
//!    provenance line in its README) in `formats/tests/<name>.rs`, and a fuzz target in `fuzz/`
//!    with seeds in `fuzz/run.sh`. The tests here check that [`Format::ALL`] lists the new variant
//!    and that its config name round-trips through serde.
//!
//! The service is meant never to name a format: it reads [`Format::ALL`], offers an HTTP source the
//! format's media types, lets a file source read it when it is line oriented, and takes the DLQ
//! stage from each reason's code ([`crate::reason::ReasonCode::stage`]).

pub mod bcb_webhook;
pub mod canonical;
pub mod dict;
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

use crate::event::{Category, Direction, Flag, Ispb, Published};
use crate::reason::Reason;
use crate::validate::{Authority, CheckDigitPolicy, UnknownFields, ValidationContext, validate_with};

/// How a body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON document (for canonical: an object = one item, an array = one item per element).
    Json,
    /// Newline-delimited JSON: one item per non-blank line.
    Ndjson,
    /// One XML document.
    Xml,
}

/// A media type a format accepts over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType {
    /// The Content-Type essence as sent (`type/subtype`, lower case, no parameters).
    pub essence: &'static str,
    /// The name we answer with and record (aliases map to one spelling).
    pub canonical: &'static str,
    /// How a body of this type is framed.
    pub framing: Framing,
}

/// One wire format: what it accepts and how it turns bytes into verdicts.
pub trait WireFormat: Send + Sync + 'static {
    /// Media types an HTTP source accepts; the FIRST is assumed when a request has no
    /// Content-Type. Empty = not for HTTP.
    fn media_types(&self) -> &'static [MediaType];

    /// Whether a file source may read it one message per line (canonical, log_line: yes). Such a
    /// source hands each line to [`WireFormat::decode`] as one body framed [`Framing::Json`].
    fn line_oriented(&self) -> bool;

    /// Decodes a body. Err = the envelope is unusable (whole message to the DLQ); Ok = one verdict
    /// per item. `framing` is what the transport said (for HTTP, the matched [`MediaType`]); a
    /// format with a single framing ignores it.
    fn decode(&self, body: &[u8], framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>>;
}

/// Declares [`Format`] from one list: each line is a variant, its config name (written once, for
/// serde and [`Format::name`]) and the [`WireFormat`] that implements it (its arm in [`Format::wire`]).
macro_rules! wire_formats {
    ($($(#[$doc:meta])* $variant:ident = $name:literal => $wire:expr,)*) => {
        /// Wire format of a source (`sources[].format` in the YAML config).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Format {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Format {
            /// Every format, in declaration order.
            pub const ALL: &'static [Format] = &[$(Format::$variant),*];

            /// The implementation of this format: THE one match over the variants.
            pub fn wire(self) -> &'static dyn WireFormat {
                match self {
                    $(Format::$variant => &$wire,)*
                }
            }

            /// The name in the YAML config (the serde name).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Format::$variant => $name,)*
                }
            }
        }
    };
}

wire_formats! {
    /// Canonical JSON events (object, array, or NDJSON when the caller says so).
    Canonical = "canonical" => canonical::Canonical,
    /// BCB API Pix webhook body `{"pix": [...]}` (also the GET /pix response).
    BcbWebhook = "bcb_webhook" => bcb_webhook::BcbWebhook,
    /// ISO 20022 SPI XML message (pacs.008 / pacs.004 / pacs.002).
    SpiXml = "spi_xml" => spi::SpiXml,
    /// One line of a system log: canonical JSON or SPI XML after an optional prefix.
    LogLine = "log_line" => log_line::LogLine,
    /// DICT API XML: infraction reports and MED refund requests (category `fraud_report`).
    DictXml = "dict_xml" => dict::DictXml,
}

impl Format {
    /// Decodes `body` in this format: `self.wire().decode(..)`.
    pub fn decode(self, body: &[u8], framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        self.wire().decode(body, framing, ctx)
    }

    /// The framing of the format's first media type, [`Framing::Json`] when it has none.
    fn default_framing(self) -> Framing {
        self.wire().media_types().first().map_or(Framing::Json, |m| m.framing)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a decoder needs besides the bytes.
#[derive(Debug, Clone)]
pub struct DecodeContext {
    /// Our ISPBs (including indirect participants we settle for); the first one is "us" where a
    /// format does not name our ISPB (the API Pix webhook is always addressed to us).
    pub own_ispbs: Vec<Ispb>,
    /// Check-digit policy for tax ids.
    pub tax_id_check_digits: CheckDigitPolicy,
    /// What a canonical member the schema does not define does (`formats.canonical.unknown_fields`).
    pub unknown_fields: UnknownFields,
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
    /// The whole body (API Pix webhook and SPI XML, `docs/pix-domain.md §7.1`: the whole message
    /// plus the index, because an item cut out of its envelope no longer means anything).
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
    /// Records to publish (two events for an intra-PSP transfer; one fraud report per DICT
    /// report) or the hard reasons (never empty).
    pub verdict: Result<Vec<Published>, Vec<Reason>>,
    /// The item's endToEndId when readable (ASCII alphanumeric, ≤ 35 chars: an id, never PII).
    pub end_to_end_id: Option<String>,
}

/// Decodes `body` in `format`, framed as the format's first media type (canonical: JSON object or
/// array): a shorthand of [`Format::decode`] for tests and tools that have no transport to say
/// the framing.
pub fn decode(format: Format, body: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    format.decode(body, format.default_framing(), ctx)
}

/// An item mapped onto the canonical shape by an adapter, with what the adapter decided.
pub(crate) struct Mapped {
    /// The canonical JSON object (only schema-v1 members; no `category`/`direction`).
    pub value: Map<String, Value>,
    /// Placements the adapter states authoritatively (docs/pix-domain.md §6).
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

    /// Runs the shared validator on a mapped item, placed where the adapter says, and stamps the
    /// format's provenance and flags.
    pub(crate) fn validate(&self, index: usize, mut mapped: Mapped) -> Result<Vec<Published>, Vec<Reason>> {
        let placements = std::mem::take(&mut mapped.placements);
        let authority = Authority::Declared { placements, intra_psp: mapped.intra_psp };
        self.judge(index, mapped, &authority)
    }

    /// Runs the shared validator on a mapped item under `authority` (for an item no placement
    /// exists for, [`Authority::Undeterminable`]: the rejection then lists that reason together
    /// with every other defect of the item).
    pub(crate) fn judge(
        &self,
        index: usize,
        mapped: Mapped,
        authority: &Authority,
    ) -> Result<Vec<Published>, Vec<Reason>> {
        let vctx = ValidationContext {
            own_ispbs: self.ctx.own_ispbs.clone(),
            tax_id_check_digits: self.ctx.tax_id_check_digits,
            unknown_fields: self.ctx.unknown_fields,
            ingested_at: self.ctx.ingested_at,
            source_id: self.ctx.source_id.clone(),
            source_kind: self.kind.to_owned(),
            item_index: index,
        };
        // Serialising a Value we built cannot fail (string keys only); an empty body would be
        // rejected by the validator as unparseable, never a panic.
        let bytes = serde_json::to_vec(&Value::Object(mapped.value)).unwrap_or_default();
        let accepted = validate_with(&bytes, &vctx, authority).map_err(|r| r.reasons)?;
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
                Published::Pix(e)
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
