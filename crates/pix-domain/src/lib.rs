//! pix-domain: the canonical Pix event, its identifiers, and the one shared validator. No I/O, no async.
//!
//! # Layout
//!
//! ```text
//!  HTTP body ──► decode::split_body ──► Item { index, bytes } ──► validate::validate_canonical
//!                (JSON object/array, NDJSON;    (one per element/line)     │
//!                 payload.* reasons)                                      ├─► Ok(Vec<Accepted { event: PixEvent }>)
//!                                                                         └─► Err(Rejection { reasons: Vec<Reason> })
//! ```
//!
//! - [`event`] owns the wire shape ([`PixEvent`]), identifier newtypes, PII masking, and the JSON Schema.
//! - [`reason`] owns the closed [`ReasonCode`] set, [`Reason`] and the pipeline [`Stage`] of each
//!   code. It depends on nothing else in the crate, so every module below can produce reasons.
//! - [`decode`] owns body splitting, nesting depth and duplicate-key detection.
//! - [`validate`] owns every rule of docs/pix-domain.md §2–§6 and §8 for canonical items and the soft
//!   [`event::Flag`]s.
//! - [`formats`] owns the other wire formats (BCB API Pix webhook, SPI XML pacs.008/004/002, log
//!   lines): envelope checks, then each item mapped onto the canonical shape and run through the
//!   same validator, so there is exactly one place where Pix rules live. Fuzzed by `fuzz/`.
//!
//! Dependencies point one way (`scripts/layers` checks it): `event` and `reason` ← `decode` ←
//! `validate` ← `formats`.

pub mod decode;
pub mod event;
pub mod formats;
pub mod reason;
pub mod validate;

pub use event::{
    Amount, Category, Cnpj, Cpf, Direction, EndToEndId, EventId, EventType, FRAUD_REPORT_SCHEMA_V1, Flag, FraudReport,
    Ispb, KeyField, MessageId, PIX_EVENT_SCHEMA_V1, PixEvent, PixKey, Published, ReturnId, SCHEMA_VERSION, Status,
    TaxId, TxId,
};
pub use reason::{EnumField, Field, Reason, ReasonCode, Stage};

/// The real public samples the tests read, copied into the crate with their provenance
/// (`tests/data/README.md`), so no test needs anything outside the repository.
#[cfg(test)]
pub(crate) const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
