//! The rules of a fraud report (docs/pix-domain.md §7.6): what a DICT infraction report or MED
//! refund request, read by an adapter into a [`RawReport`] of element texts, must satisfy to
//! become a [`FraudReport`]. The identifiers reuse the canonical event's newtypes (endToEndId,
//! ISPB, return id, amount, date-time), so their rules are written once.
//!
//! Every rule runs whatever else is wrong: a rejection lists every hard defect in the fixed order
//! the members are read below. Codes the DICT may extend (`InfractionType`, `RefundReason`,
//! `AnalysisResult`, `TransactionType`, `TransactionResult`) are checked for shape only; a value we
//! do not know is kept and flagged `UNKNOWN_ENUM_VALUE`, so a new DICT release keeps flowing.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use sha2::{Digest, Sha256};

use super::{EnumField, Field, Reason, ReasonCode};
use crate::event::fraud::{FraudSchema, FraudSchemaVersion};
use crate::event::{
    Amount, AmountError, Category, Currency, EndToEndId, Flag, FraudReport, Ispb, ReportKind, ReportStatus, ReportedBy,
    ReturnId, Source, TimeError, Timestamp,
};

/// A UUID, the DICT's report ids.
static UUID: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"));
/// The shape of a DICT code.
static CODE: LazyLock<Regex> = LazyLock::new(|| compile(r"^[A-Z_]{1,40}$"));
/// A PSP's own transaction id (internal transfers).
static INTERNAL_ID: LazyLock<Regex> = LazyLock::new(|| compile(r"^[a-zA-Z0-9]{1,35}$"));

/// Compiles a literal pattern of this module (`report_patterns_compile` builds each one).
#[allow(clippy::expect_used)]
fn compile(p: &'static str) -> Regex {
    Regex::new(p).expect("static pattern compiles")
}

/// Known values of the extensible DICT codes (DICT API 1.8 and the MED rules of Resolução BCB 103).
const INFRACTION_TYPES: &[&str] = &["FRAUD", "REQUEST_REFUND", "OPERATIONAL_FLAW", "REFUND_CANCELLED"];
const REFUND_REASONS: &[&str] = &["FRAUD", "OPERATIONAL_FLAW", "REFUND_CANCELLED"];
const ANALYSIS_RESULTS: &[&str] = &["AGREED", "DISAGREED", "TOTALLY_ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED"];
const TRANSACTION_TYPES: &[&str] = &["SPI", "INTERNAL"];
const TRANSACTION_RESULTS: &[&str] = &["SETTLED", "REJECTED_PAYER", "REJECTED_PAYEE"];

/// The element texts of one DICT report as an adapter read them (`None` = element absent).
#[derive(Debug, Clone, Default)]
pub(crate) struct RawReport {
    /// Element path of the report, the prefix of every reason path.
    pub path: String,
    pub report_id: Option<String>,
    pub transaction_id: Option<String>,
    pub transaction_type: Option<String>,
    pub transaction_result: Option<String>,
    pub transaction_date: Option<String>,
    pub infraction_type: Option<String>,
    pub refund_reason: Option<String>,
    pub reported_by: Option<String>,
    pub participant: Option<String>,
    pub debited_participant: Option<String>,
    pub credited_participant: Option<String>,
    pub requesting_participant: Option<String>,
    pub contested_participant: Option<String>,
    /// `Status` as sent.
    pub status: Option<String>,
    /// The status a request document asks for (Acknowledge → ACKNOWLEDGED, ...), when it has no `Status`.
    pub implied_status: Option<ReportStatus>,
    pub analysis_result: Option<String>,
    pub amount: Option<String>,
    pub refund_transaction_id: Option<String>,
    pub details: Option<String>,
    pub analysis_details: Option<String>,
    pub created: Option<String>,
    pub last_modified: Option<String>,
    pub response_time: Option<String>,
}

/// What is the same for every report of one document.
pub(crate) struct ReportContext<'a> {
    pub kind: ReportKind,
    pub ingested_at: DateTime<Utc>,
    pub source_id: &'a str,
    /// The DICT root element (`source.msg_def`).
    pub document: &'a str,
    pub raw_sha256: &'a str,
    /// Document-level flags (`SIGNATURE_ABSENT`).
    pub flags: &'a [Flag],
}

impl ReportContext<'_> {
    fn source(&self, index: usize) -> Source {
        Source {
            kind: "dict_xml".to_owned(),
            msg_def: Some(self.document.to_owned()),
            item_index: index,
            raw_sha256: self.raw_sha256.to_owned(),
            id: self.source_id.to_owned(),
        }
    }
}

/// Collects reasons and flags while reading one report.
struct Judge<'r> {
    raw: &'r RawReport,
    reasons: Vec<Reason>,
    flags: Vec<Flag>,
}

impl Judge<'_> {
    fn path(&self, element: &str) -> String {
        format!("{}/{element}", self.raw.path)
    }

    fn reject(&mut self, code: ReasonCode, element: &str, detail: impl Into<String>) {
        let path = self.path(element);
        self.reasons.push(Reason::new(code, path, detail));
    }

    fn ispb(&mut self, value: Option<&String>, element: &str) -> Option<Ispb> {
        let v = value?;
        let parsed = v.parse::<Ispb>().ok();
        if parsed.is_none() {
            self.reject(ReasonCode::IspbFormat, element, "expected ^[0-9A-Z]{8}$");
        }
        parsed
    }

    fn time(&mut self, value: Option<&String>, element: &str) -> Option<Timestamp> {
        match Timestamp::parse(value?) {
            Ok(t) => Some(t),
            Err(TimeError::Format) => {
                self.reject(ReasonCode::DatetimeFormat, element, "expected an RFC 3339 date-time with a zone");
                None
            }
            Err(TimeError::Value) => {
                self.reject(ReasonCode::DatetimeValue, element, "not a real calendar date-time");
                None
            }
        }
    }

    /// An extensible DICT code: shape checked, an unknown value kept and flagged.
    fn code(&mut self, value: Option<&String>, element: &str, field: EnumField, known: &[&str]) -> Option<String> {
        let v = value?;
        if !CODE.is_match(v) {
            self.reject(ReasonCode::Enum(field), element, "expected upper-case letters and underscores");
            return None;
        }
        if !known.contains(&v.as_str()) && !self.flags.contains(&Flag::UnknownEnumValue) {
            self.flags.push(Flag::UnknownEnumValue);
        }
        Some(v.clone())
    }

    fn status(&mut self) -> Option<ReportStatus> {
        match (&self.raw.status, self.raw.implied_status) {
            (Some(s), _) => {
                let parsed = ReportStatus::parse(s);
                if parsed.is_none() {
                    self.reject(ReasonCode::Enum(EnumField::ReportStatus), "Status", "not a DICT report status");
                }
                parsed
            }
            (None, Some(implied)) => Some(implied),
            (None, None) => {
                let path = self.path("Status");
                self.reasons.push(Reason::missing(Field::XmlElement, path));
                None
            }
        }
    }

    fn reported_by(&mut self) -> Option<ReportedBy> {
        let v = self.raw.reported_by.as_ref()?;
        let parsed = ReportedBy::parse(v);
        if parsed.is_none() {
            self.reject(
                ReasonCode::Enum(EnumField::ReportedBy),
                "ReportedBy",
                "expected DEBITED_ or CREDITED_PARTICIPANT",
            );
        }
        parsed
    }

    /// A report must name itself or its transaction (else it has no event id).
    fn subject_named(&mut self) {
        if self.raw.report_id.is_none() && self.raw.transaction_id.is_none() {
            let path = self.path("Id");
            self.reasons.push(Reason::missing(Field::XmlElement, path));
        }
    }

    fn report_id(&mut self) -> Option<String> {
        let v = self.raw.report_id.as_ref()?;
        if UUID.is_match(v) {
            Some(v.clone())
        } else {
            self.reject(ReasonCode::ReportIdFormat, "Id", "expected a UUID");
            None
        }
    }

    /// The transaction id, and the endToEndId it is unless the transaction is internal.
    fn transaction(&mut self, internal: bool) -> (Option<String>, Option<EndToEndId>) {
        let Some(v) = self.raw.transaction_id.as_ref() else { return (None, None) };
        if internal {
            if INTERNAL_ID.is_match(v) {
                return (Some(v.clone()), None);
            }
            self.reject(ReasonCode::TransactionIdFormat, "TransactionId", "expected 1 to 35 [a-zA-Z0-9]");
            return (None, None);
        }
        match v.parse::<EndToEndId>() {
            Ok(e2e) => (Some(v.clone()), Some(e2e)),
            Err(e) => {
                self.reject(
                    ReasonCode::TransactionIdFormat,
                    "TransactionId",
                    format!("an SPI transaction's endToEndId: {}", e.detail),
                );
                (None, None)
            }
        }
    }

    fn amount(&mut self) -> Option<Amount> {
        let v = self.raw.amount.as_ref()?;
        match Amount::parse_positive(v) {
            Ok(a) => Some(a),
            Err(e) => {
                let code = match e {
                    AmountError::Format => ReasonCode::AmountFormat,
                    AmountError::NonPositive => ReasonCode::AmountNonPositive,
                    AmountError::OutOfRange => ReasonCode::AmountOutOfRange,
                };
                self.reject(code, "RefundAmount", "expected up to 10 digits, a dot and 2 decimals, above zero");
                None
            }
        }
    }

    fn return_id(&mut self) -> Option<ReturnId> {
        let v = self.raw.refund_transaction_id.as_ref()?;
        let parsed = v.parse::<ReturnId>().ok();
        if parsed.is_none() {
            self.reject(ReasonCode::RtrIdFormat, "RefundTransactionId", "expected a return id (D + ISPB + time + 11)");
        }
        parsed
    }
}

/// Hex SHA-256 of a free text (the text itself never leaves this function).
fn digest(text: Option<&String>) -> Option<String> {
    text.map(|t| hex::encode(Sha256::digest(t.as_bytes())))
}

/// Judges one report: the [`FraudReport`] to publish, or every hard reason found.
pub(crate) fn judge_report(raw: &RawReport, index: usize, ctx: &ReportContext<'_>) -> Result<FraudReport, Vec<Reason>> {
    let mut j = Judge { raw, reasons: Vec::new(), flags: ctx.flags.to_vec() };
    let report_id = j.report_id();
    let transaction_type =
        j.code(raw.transaction_type.as_ref(), "TransactionType", EnumField::TransactionType, TRANSACTION_TYPES);
    let (transaction_id, end_to_end_id) = j.transaction(transaction_type.as_deref() == Some("INTERNAL"));
    let transaction_result =
        j.code(raw.transaction_result.as_ref(), "TransactionResult", EnumField::TransactionResult, TRANSACTION_RESULTS);
    let transaction_time = j.time(raw.transaction_date.as_ref(), "TransactionDate");
    let infraction_type =
        j.code(raw.infraction_type.as_ref(), "InfractionType", EnumField::InfractionType, INFRACTION_TYPES);
    let refund_reason = j.code(raw.refund_reason.as_ref(), "RefundReason", EnumField::RefundReason, REFUND_REASONS);
    let reported_by = j.reported_by();
    let participant = j.ispb(raw.participant.as_ref(), "Participant");
    let debited_participant = j.ispb(raw.debited_participant.as_ref(), "DebitedParticipant");
    let credited_participant = j.ispb(raw.credited_participant.as_ref(), "CreditedParticipant");
    let requesting_participant = j.ispb(raw.requesting_participant.as_ref(), "RequestingParticipant");
    let contested_participant = j.ispb(raw.contested_participant.as_ref(), "ContestedParticipant");
    let status = j.status();
    let analysis_result =
        j.code(raw.analysis_result.as_ref(), "AnalysisResult", EnumField::AnalysisResult, ANALYSIS_RESULTS);
    let amount = j.amount();
    let refund_return_id = j.return_id();
    let created_at = j.time(raw.created.as_ref(), "CreationTime");
    let last_modified = j.time(raw.last_modified.as_ref(), "LastModified");
    let response_time = j.time(raw.response_time.as_ref(), "ResponseTime");
    j.subject_named();
    let subject = report_id.clone().or_else(|| transaction_id.clone());
    let (Some(status), Some(subject), true) = (status, subject, j.reasons.is_empty()) else {
        return Err(j.reasons);
    };
    let reporter_ispb = match (ctx.kind, reported_by) {
        (ReportKind::InfractionReport, Some(ReportedBy::DebitedParticipant)) => &debited_participant,
        (ReportKind::InfractionReport, Some(ReportedBy::CreditedParticipant)) => &credited_participant,
        (ReportKind::RefundRequest, _) => &requesting_participant,
        (ReportKind::InfractionReport, None) => &None,
    }
    .clone()
    .or_else(|| participant.clone());
    let ingested_at = Timestamp::from_utc(ctx.ingested_at);
    let mut flags = j.flags;
    flags.sort();
    Ok(FraudReport {
        schema: FraudSchema::FraudReport,
        schema_version: FraudSchemaVersion::V1,
        event_id: format!("{}:{subject}:{status}", ctx.kind),
        category: Category::FraudReport,
        report_kind: ctx.kind,
        report_id,
        end_to_end_id,
        transaction_id,
        transaction_type,
        transaction_result,
        transaction_time,
        infraction_type,
        refund_reason,
        reported_by,
        reporter_ispb,
        participant,
        debited_participant,
        credited_participant,
        requesting_participant,
        contested_participant,
        status,
        analysis_result,
        amount_cents: amount.map(Amount::cents),
        currency: amount.map(|_| Currency::Brl),
        amount,
        refund_return_id,
        details_sha256: digest(raw.details.as_ref()),
        analysis_details_sha256: digest(raw.analysis_details.as_ref()),
        created_at,
        event_time: last_modified.or(response_time).unwrap_or(ingested_at),
        last_modified,
        response_time,
        ingested_at,
        source: ctx.source(index),
        flags,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ctx(flags: &[Flag]) -> ReportContext<'_> {
        ReportContext {
            kind: ReportKind::RefundRequest,
            ingested_at: Utc.with_ymd_and_hms(2020, 9, 9, 20, 20, 0).unwrap(),
            source_id: "t",
            document: "GetRefundResponse",
            raw_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
            flags,
        }
    }

    fn raw() -> RawReport {
        RawReport {
            path: "R".into(),
            report_id: Some("91d65e98-97c0-4b0f-b577-73625da1f9fc".into()),
            transaction_id: Some("E9999901012341234123412345678900".into()),
            status: Some("OPEN".into()),
            amount: Some("200.00".into()),
            details: Some("texto livre".into()),
            ..RawReport::default()
        }
    }

    fn codes(r: &RawReport) -> Vec<&'static str> {
        judge_report(r, 0, &ctx(&[])).unwrap_err().iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn report_patterns_compile() {
        for re in [&UUID, &CODE, &INTERNAL_ID] {
            LazyLock::force(re);
        }
    }

    #[test]
    fn a_valid_refund_hashes_its_text_and_is_keyed_by_the_end_to_end_id() {
        let r = judge_report(&raw(), 3, &ctx(&[])).unwrap();
        assert_eq!(r.event_id, "REFUND_REQUEST:91d65e98-97c0-4b0f-b577-73625da1f9fc:OPEN");
        assert_eq!(r.amount_cents, Some(20_000));
        assert_eq!(r.details_sha256.as_deref().map(str::len), Some(64));
        assert!(!serde_json::to_string(&r).unwrap().contains("texto"), "free text never published");
        assert_eq!(r.partition_key(crate::KeyField::EndToEndId), "E9999901012341234123412345678900");
        assert_eq!(r.event_time, r.ingested_at, "no LastModified nor ResponseTime");
        crate::event::assert_valid_report(&r);
    }

    #[test]
    fn every_defect_is_reported_in_reading_order() {
        let bad = RawReport {
            report_id: Some("not-a-uuid".into()),
            transaction_id: Some("E123".into()),
            infraction_type: Some("fraud".into()),
            debited_participant: Some("1234".into()),
            status: Some("DONE".into()),
            amount: Some("-110.00".into()),
            last_modified: Some("2020-02-30T10:00:00Z".into()),
            ..raw()
        };
        assert_eq!(
            codes(&bad),
            [
                "report_id.format",
                "transaction_id.format",
                "enum.infraction_type",
                "ispb.format",
                "enum.report_status",
                "amount.format",
                "datetime.value"
            ]
        );
    }

    #[test]
    fn status_and_subject_are_required() {
        let none = RawReport { status: None, report_id: None, transaction_id: None, ..raw() };
        assert_eq!(codes(&none), ["field.missing.xml_element", "field.missing.xml_element"]);
        let implied = RawReport { status: None, implied_status: Some(ReportStatus::Cancelled), ..raw() };
        assert_eq!(judge_report(&implied, 0, &ctx(&[])).unwrap().status, ReportStatus::Cancelled);
    }

    #[test]
    fn internal_transfers_and_unknown_codes() {
        let internal = RawReport {
            transaction_id: Some("12345679XPTO1234".into()),
            transaction_type: Some("INTERNAL".into()),
            refund_reason: Some("NEW_REASON".into()),
            report_id: None,
            ..raw()
        };
        let r = judge_report(&internal, 0, &ctx(&[Flag::SignatureAbsent])).unwrap();
        assert_eq!(r.partition_key(crate::KeyField::EndToEndId), "12345679XPTO1234");
        assert_eq!(r.flags, [Flag::UnknownEnumValue, Flag::SignatureAbsent]);
        assert_eq!((r.end_to_end_id, r.transaction_id.as_deref()), (None, Some("12345679XPTO1234")));
        let spi_with_internal_id = RawReport { transaction_id: Some("12345679XPTO1234".into()), ..raw() };
        assert_eq!(codes(&spi_with_internal_id), ["transaction_id.format"]);
    }
}
