//! One DICT report element (or transition request) → the element texts of a [`RawReport`].
//!
//! Only structure is checked here (an element repeated where the DICT allows one is
//! `xml.structure`); every value rule is [`crate::validate::fraud`]'s. Elements we do not read are
//! ignored, so a newer DICT release still decodes. The infracting party's tax id, key and account
//! (`InfractionData/TaxIdNumber`, `Key`, `InfractingAccountData`) are personal data the report's
//! consumers do not need to join it with the payment: they are not read at all.

use super::Shape;
use super::xml::El;
use crate::event::ReportStatus;
use crate::reason::Reason;
use crate::validate::fraud::RawReport;

/// Reads texts, collecting every structure error instead of stopping at the first.
struct Reader<'e, 'a, 'i> {
    el: &'e El<'a, 'i>,
    reasons: Vec<Reason>,
}

impl Reader<'_, '_, '_> {
    fn text(&mut self, names: &[&str]) -> Option<String> {
        match self.el.opt_text(names) {
            Ok(v) => v,
            Err(r) => {
                self.reasons.push(r);
                None
            }
        }
    }

    /// The first of several spellings that is present (`AnalysisResult` / `RefundAnalysisResult`).
    fn first(&mut self, spellings: &[&str]) -> Option<String> {
        spellings.iter().find_map(|s| self.text(&[s]))
    }
}

/// The raw report of `el` (a report element, or the root of a transition request).
pub(super) fn report(root: &El<'_, '_>, el: &El<'_, '_>, shape: Shape) -> Result<RawReport, Vec<Reason>> {
    let mut top = Reader { el: root, reasons: Vec::new() };
    let participant = top.text(&["Participant"]);
    let response_time = top.text(&["ResponseTime"]);
    let mut r = Reader { el, reasons: Vec::new() };
    let data = |r: &mut Reader<'_, '_, '_>, name: &str| r.text(&[name]).or_else(|| r.text(&["InfractionData", name]));
    let raw = RawReport {
        path: el.path.clone(),
        report_id: r.first(&["Id", "InfractionReportId", "RefundId"]),
        transaction_id: r.text(&["TransactionId"]),
        transaction_type: r.text(&["TransactionType"]),
        transaction_result: r.text(&["TransactionResult"]),
        transaction_date: data(&mut r, "TransactionDate"),
        infraction_type: r.text(&["InfractionType"]),
        refund_reason: r.text(&["RefundReason"]),
        reported_by: data(&mut r, "ReportedBy"),
        participant,
        debited_participant: data(&mut r, "DebitedParticipant"),
        credited_participant: data(&mut r, "CreditedParticipant"),
        requesting_participant: r.text(&["RequestingParticipant"]),
        contested_participant: r.text(&["ContestedParticipant"]),
        status: r.text(&["Status"]),
        implied_status: implied_status(&root.path, shape),
        analysis_result: r.first(&["AnalysisResult", "RefundAnalysisResult"]),
        amount: r.text(&["RefundAmount"]),
        refund_transaction_id: r.text(&["RefundTransactionId"]),
        details: r.first(&["ReportDetails", "RefundDetails"]),
        analysis_details: r.first(&["AnalysisDetails", "RefundAnalysisDetails"]),
        created: r.text(&["CreationTime"]),
        last_modified: r.text(&["LastModified"]),
        response_time,
    };
    let mut reasons = top.reasons;
    reasons.extend(r.reasons);
    if reasons.is_empty() { Ok(raw) } else { Err(reasons) }
}

/// The status a request asks for: a create request opens the report, a transition request names
/// its transition; responses say their `Status` themselves.
fn implied_status(document: &str, shape: Shape) -> Option<ReportStatus> {
    match shape {
        Shape::Transition(status) => Some(status),
        _ if document.starts_with("Create") && document.ends_with("Request") => Some(ReportStatus::Open),
        _ => None,
    }
}
