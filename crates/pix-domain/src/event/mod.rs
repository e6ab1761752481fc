//! The canonical Pix event ([`PixEvent`], docs/pix-domain.md §5): one JSON record per Kafka message.
//!
//! Owns the wire shape and its JSON Schema ([`PIX_EVENT_SCHEMA_V1`]); leaves the rules that decide
//! whether an input may become a `PixEvent` to [`crate::validate`]. Every personal value (tax ids,
//! keys, account numbers, names, free text) is a masking newtype, so `{:?}` of an event is safe to
//! log; `serde_json::to_vec(&event)` writes the raw values for Kafka.

pub mod breakdown;
pub mod category;
pub mod enums;
pub mod fraud;
pub mod ids;
pub mod money;
pub mod party;
pub(crate) mod pattern;
#[cfg(test)]
mod schema_check;
#[cfg(test)]
pub(crate) use schema_check::{assert_valid, assert_valid_report};
pub mod pixkey;
pub mod published;
pub mod taxid;
pub mod time;

use serde::{Deserialize, Serialize};

pub use breakdown::{AmountBreakdown, Component};
pub use category::Category;
pub use enums::{
    AccountType, AgentModality, Currency, Direction, EventType, Flag, InitiationType, Priority, Purpose, RefundNature,
    ReturnReasonCode, ServiceLevel, Status, TaxIdType,
};
pub use fraud::{FRAUD_REPORT_SCHEMA, FRAUD_REPORT_SCHEMA_V1, FraudReport, ReportKind, ReportStatus, ReportedBy};
pub use ids::{EndToEndId, EventId, IdError, Ispb, MessageId, RefundRequestId, ReturnId, TxId};
pub use money::{Amount, AmountError};
pub use party::{Account, AccountNumber, Branch, Party, PersonalText};
pub use pixkey::{PixKey, PixKeyError, PixKeyType};
pub use published::{PIX_EVENT_SCHEMA, Published};
pub use taxid::{Cnpj, Cpf, TaxId, TaxIdError};
pub use time::{TimeError, Timestamp};

/// Version of the canonical event contract this crate reads and writes.
pub const SCHEMA_VERSION: &str = "1";

/// JSON Schema (draft 2020-12) of what [`PixEvent`] serializes; a test keeps the two in sync.
pub const PIX_EVENT_SCHEMA_V1: &str = include_str!("../../schema/pix-event.v1.schema.json");

/// The `schema_version` member; only `"1"` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

/// Where the event came from inside pix-ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Input format: `canonical`, `bcb_webhook`, `bcb_get_pix`, `spi_xml`, `log`.
    pub kind: String,
    /// ISO 20022 message definition (`pacs.008.spi.1.16`) for SPI sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_def: Option<String>,
    /// Index of the item inside its body/batch (0-based).
    pub item_index: usize,
    /// Hex SHA-256 of the item's original bytes (links the event to the DLQ/raw archive).
    pub raw_sha256: String,
    /// Id of the pix-ingest source (config) that received it.
    pub id: String,
}

/// The canonical Pix event. `None` fields are omitted on output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixEvent {
    /// Always `"1"`.
    pub schema_version: SchemaVersion,
    /// `{tx_id}:{event_type}:{status}`; the two events of an intra-PSP transfer share it.
    pub event_id: EventId,
    /// TRANSFER / RETURN / STATUS.
    pub event_type: EventType,
    /// payment / receipt / refund (docs/pix-domain.md §6).
    pub category: Category,
    /// OUTBOUND / INBOUND relative to our own ISPBs.
    pub direction: Direction,
    /// Original endToEndId (also for refunds): the Kafka key by default.
    pub end_to_end_id: EndToEndId,
    /// rtrId of the devolução.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_id: Option<ReturnId>,
    /// API Pix devolução id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_request_id: Option<RefundRequestId>,
    /// Merchant txid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txid: Option<TxId>,
    /// SPI message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Amount as `"123.45"`; absent only on STATUS events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// Same amount in centavos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
    /// `BRL` whenever `amount` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// API Pix `componentesValor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_breakdown: Option<AmountBreakdown>,
    /// When it happened (UTC, ms).
    pub event_time: Timestamp,
    /// When it settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<Timestamp>,
    /// Creation time of the carrying message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_created_at: Option<Timestamp>,
    /// When pix-ingest accepted it.
    pub ingested_at: Timestamp,
    /// Processing status.
    pub status: Status,
    /// ISO 20022 status reason (pacs.002), e.g. `AM04`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_code: Option<String>,
    /// Free-text reason (≤ 140), masked in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_text: Option<PersonalText>,
    /// Payer (absent when the source does not carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Party>,
    /// Payee (its ISPB is always present).
    pub payee: Party,
    /// Receiver's DICT key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pix_key: Option<PixKey>,
    /// Derived from `pix_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pix_key_type: Option<PixKeyType>,
    /// Initiation form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiation_type: Option<InitiationType>,
    /// Payment initiator's CNPJ (INIC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_cnpj: Option<Cnpj>,
    /// Purpose code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// HIGH / NORM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// PAGPRI / PAGAGD / PAGFRD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    /// Payer's free text (≤ 140), masked in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_info: Option<PersonalText>,
    /// Devolução reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason_code: Option<ReturnReasonCode>,
    /// API Pix `natureza` (derived from the reason code when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_nature: Option<RefundNature>,
    /// MED refund (FR01, BE08, REFU / MED_PIX_AUTOMATICO, or a TRANSFER with purpose REFU).
    pub is_med: bool,
    /// Both sides are our own ISPBs.
    pub intra_psp: bool,
    /// Hour of `event_time` in America/Sao_Paulo (0–23).
    pub local_hour: u8,
    /// `local_hour` in 20:00–06:00.
    pub night_period: bool,
    /// Provenance inside pix-ingest.
    pub source: Source,
    /// Soft-rule findings (may be empty).
    pub flags: Vec<Flag>,
}

/// Which value becomes the Kafka key (config: `end_to_end_id` | `payer_account` | `event_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyField {
    /// Original endToEndId: keeps a payment, its statuses and its refunds in order (the default;
    /// `docs/pix-domain.md §5`).
    EndToEndId,
    /// `{payer ispb}:{branch}:{number}`: keeps one payer account's events in order.
    PayerAccount,
    /// The event id.
    EventId,
}

impl PixEvent {
    /// The partition key for `field`.
    ///
    /// `payer_account` is `{ispb}:{branch}:{number}`, with the payer ISPB falling back to the one in
    /// the endToEndId (as for categorisation) and an empty branch segment when the account has no
    /// branch. When the payer has no account, the key falls back to the endToEndId so the event still
    /// lands next to its own statuses and refunds rather than on an arbitrary partition.
    pub fn partition_key(&self, field: KeyField) -> String {
        match field {
            KeyField::EndToEndId => self.end_to_end_id.as_str().to_owned(),
            KeyField::EventId => self.event_id.as_str().to_owned(),
            KeyField::PayerAccount => {
                let payer = self.payer.as_ref();
                match payer.and_then(|p| p.account.as_ref()) {
                    Some(account) => {
                        let ispb = payer
                            .and_then(|p| p.ispb.as_ref())
                            .map_or_else(|| self.end_to_end_id.ispb_str(), |i| i.as_str());
                        let branch = account.branch.as_ref().map_or("", |b| b.as_str());
                        format!("{ispb}:{branch}:{}", account.number.expose())
                    }
                    None => self.end_to_end_id.as_str().to_owned(),
                }
            }
        }
    }
}
