//! The fraud report ([`FraudReport`], docs/pix-domain.md §7.6): a DICT infraction report or MED
//! refund request, in its own versioned schema (`fraud_report` v1, [`FRAUD_REPORT_SCHEMA_V1`]),
//! published on the `fraud_report` category's topic next to the payment it labels.
//!
//! Owns the wire shape and its partition key; the rules that decide whether a DICT item may become
//! a report are in [`crate::validate::fraud`]. Free text (`ReportDetails`, `AnalysisDetails`) never
//! enters the record: only its SHA-256, so neither Kafka nor a sink stores it.

use serde::{Deserialize, Serialize};

use super::category::Category;
use super::enums::{Currency, Flag, str_enum};
use super::ids::{EndToEndId, Ispb, ReturnId};
use super::money::Amount;
use super::time::Timestamp;
use super::{KeyField, Source};

/// JSON Schema (draft 2020-12) of what [`FraudReport`] serializes; a test keeps the two in sync.
pub const FRAUD_REPORT_SCHEMA_V1: &str = include_str!("../../schema/fraud-report.v1.schema.json");

/// The `schema` member of a fraud report (and the `pix-schema` record header).
pub const FRAUD_REPORT_SCHEMA: &str = "fraud_report";

/// The `schema` member: always `fraud_report`, so a consumer tells it from a canonical event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FraudSchema {
    /// `fraud_report`.
    #[serde(rename = "fraud_report")]
    FraudReport,
}

/// The `schema_version` member of a fraud report; only `"1"` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FraudSchemaVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

str_enum! {
    /// What the DICT document is about.
    ReportKind {
        /// An infraction report (`InfractionReport`): a participant reports a transaction.
        InfractionReport = "INFRACTION_REPORT",
        /// A MED refund request (`Refund`): a participant asks for the money back.
        RefundRequest = "REFUND_REQUEST",
    }
}

str_enum! {
    /// Where the report is in its life cycle (the DICT `Status`, or the transition a request asks for).
    ReportStatus {
        /// Created, waiting for the counterpart.
        Open = "OPEN",
        /// The counterpart acknowledged it and analyses it.
        Acknowledged = "ACKNOWLEDGED",
        /// Analysed and closed with a result.
        Closed = "CLOSED",
        /// Withdrawn by the reporter.
        Cancelled = "CANCELLED",
    }
}

str_enum! {
    /// Which participant of the transaction filed the infraction report.
    ReportedBy {
        /// The payer's PSP.
        DebitedParticipant = "DEBITED_PARTICIPANT",
        /// The receiver's PSP.
        CreditedParticipant = "CREDITED_PARTICIPANT",
    }
}

/// A DICT infraction report or MED refund request. `None` fields are omitted on output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudReport {
    /// Always `fraud_report`.
    pub schema: FraudSchema,
    /// Always `"1"`.
    pub schema_version: FraudSchemaVersion,
    /// `{report_kind}:{report id, else transaction id}:{status}`: one id per transition.
    pub event_id: String,
    /// Always `fraud_report`.
    pub category: Category,
    /// Infraction report or refund request.
    pub report_kind: ReportKind,
    /// The DICT's id of the report (absent on a create request: the DICT assigns it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// The reported transaction's endToEndId (an SPI transaction): the Kafka key by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<EndToEndId>,
    /// The DICT `TransactionId` as sent (the endToEndId, or the PSP's id of an internal transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// `SPI` or `INTERNAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
    /// `SETTLED`, `REJECTED_PAYER`, `REJECTED_PAYEE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_result: Option<String>,
    /// When the reported transaction happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_time: Option<Timestamp>,
    /// Infraction reports: `FRAUD`, `REQUEST_REFUND`, ... (an unknown value is kept, flagged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infraction_type: Option<String>,
    /// Refund requests: `FRAUD`, `OPERATIONAL_FLAW` (an unknown value is kept, flagged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// Infraction reports: which side filed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<ReportedBy>,
    /// ISPB of the reporter: the `reported_by` side, the refund's requesting participant, or the
    /// participant that sent the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_ispb: Option<Ispb>,
    /// The participant that sent a request document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<Ispb>,
    /// The payer's PSP (infraction reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debited_participant: Option<Ispb>,
    /// The receiver's PSP (infraction reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credited_participant: Option<Ispb>,
    /// The participant asking for the refund (refund requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requesting_participant: Option<Ispb>,
    /// The participant asked to refund (refund requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contested_participant: Option<Ispb>,
    /// Life-cycle status (`OPEN`, `ACKNOWLEDGED`, `CLOSED`, `CANCELLED`).
    pub status: ReportStatus,
    /// Result of the analysis (`AGREED`/`DISAGREED`; refunds `TOTALLY_ACCEPTED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_result: Option<String>,
    /// Refund requests: the amount asked for, `"123.45"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// Same amount in centavos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
    /// `BRL` whenever `amount` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The devolução that paid a closed refund back (`RefundTransactionId`, a return id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_return_id: Option<ReturnId>,
    /// Hex SHA-256 of the report's free text (`ReportDetails` / `RefundDetails`); the text itself
    /// is never published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_sha256: Option<String>,
    /// Hex SHA-256 of the analysis free text (`AnalysisDetails` / `RefundAnalysisDetails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_details_sha256: Option<String>,
    /// When the DICT created the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When the DICT last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<Timestamp>,
    /// `ResponseTime` of a DICT response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_time: Option<Timestamp>,
    /// When this state was reached: `last_modified`, else `response_time`, else `ingested_at`.
    pub event_time: Timestamp,
    /// When pix-ingest accepted it.
    pub ingested_at: Timestamp,
    /// Provenance inside pix-ingest (`kind` `dict_xml`, `msg_def` the DICT root element).
    pub source: Source,
    /// Soft-rule findings (may be empty).
    pub flags: Vec<Flag>,
}

impl FraudReport {
    /// The partition key for `field`: the reported transaction's endToEndId for `end_to_end_id`
    /// and `payer_account` (a report names no account), so it lands in the payment's partition;
    /// the event id for `event_id`. A report that names no endToEndId (a request that carries only
    /// the report id, an internal transfer) falls back to its transaction id, then its report id.
    pub fn partition_key(&self, field: KeyField) -> String {
        match field {
            KeyField::EventId => self.event_id.clone(),
            KeyField::EndToEndId | KeyField::PayerAccount => self
                .end_to_end_id
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .or_else(|| self.transaction_id.clone())
                .or_else(|| self.report_id.clone())
                .unwrap_or_else(|| self.event_id.clone()),
        }
    }
}
