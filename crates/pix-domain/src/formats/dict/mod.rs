//! DICT API XML (docs/pix-domain.md §7.6): the infraction report and MED refund documents of the
//! DICT (create / acknowledge / close / cancel requests and responses, get and list responses),
//! each report becoming one [`crate::FraudReport`] on the `fraud_report` category.
//!
//! This module owns the envelope: UTF-8, DTD refusal and node bound (shared with the SPI decoder,
//! `docs/engineering-notes.md §6`), no namespace, and the allow-list of root elements ([`ROOTS`]);
//! anything else refuses the whole document (`Err`). [`read`] then turns each report element into
//! the element texts the shared report rules ([`crate::validate::fraud`]) judge: an invalid report
//! of a list response is one rejected item (its index), its valid siblings are published. As for
//! SPI batches, every item's dead letter is the whole document plus the index.

mod read;

use super::spi::xml::{self, El};
use super::{DecodeContext, DecodedItem, Framing, ItemBytes, MediaType, WireFormat, readable_id};
use crate::event::{Flag, Published, ReportKind, ReportStatus};
use crate::reason::{Reason, ReasonCode};
use crate::validate::fraud::{ReportContext, judge_report};

/// `dict_xml`: one DICT document per body.
pub struct DictXml;

impl WireFormat for DictXml {
    fn media_types(&self) -> &'static [MediaType] {
        super::spi::XML_MEDIA_TYPES
    }

    /// A file source may read one DICT document per line (a DICT client's log of its calls).
    fn line_oriented(&self) -> bool {
        true
    }

    /// [`decode`]; always one XML document, so `framing` is ignored.
    fn decode(&self, body: &[u8], _framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        decode(body, ctx)
    }
}

/// Most nodes a document may have: a list response of 1,000 reports is ~60,000 nodes.
const NODES_LIMIT: u32 = 200_000;

/// Where the reports of a document are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One report element (`InfractionReport` / `Refund`) under the root.
    One,
    /// A list: `InfractionReports/InfractionReport*` or `Refunds/Refund*`.
    List,
    /// The root itself is the request: it names the report by id and asks for a transition.
    Transition(ReportStatus),
}

/// The allow-list of root elements: name, what the reports are, where they are.
pub const ROOTS: &[(&str, ReportKind, Shape)] = &[
    ("CreateInfractionReportRequest", ReportKind::InfractionReport, Shape::One),
    ("CreateInfractionReportResponse", ReportKind::InfractionReport, Shape::One),
    ("AcknowledgeInfractionReportRequest", ReportKind::InfractionReport, Shape::Transition(ReportStatus::Acknowledged)),
    ("AcknowledgeInfractionReportResponse", ReportKind::InfractionReport, Shape::One),
    ("CloseInfractionReportRequest", ReportKind::InfractionReport, Shape::Transition(ReportStatus::Closed)),
    ("CloseInfractionReportResponse", ReportKind::InfractionReport, Shape::One),
    ("CancelInfractionReportRequest", ReportKind::InfractionReport, Shape::Transition(ReportStatus::Cancelled)),
    ("CancelInfractionReportResponse", ReportKind::InfractionReport, Shape::One),
    ("GetInfractionReportResponse", ReportKind::InfractionReport, Shape::One),
    ("ListInfractionReportsResponse", ReportKind::InfractionReport, Shape::List),
    ("CreateRefundRequest", ReportKind::RefundRequest, Shape::One),
    ("CreateRefundResponse", ReportKind::RefundRequest, Shape::One),
    ("CloseRefundRequest", ReportKind::RefundRequest, Shape::Transition(ReportStatus::Closed)),
    ("CloseRefundResponse", ReportKind::RefundRequest, Shape::One),
    ("CancelRefundRequest", ReportKind::RefundRequest, Shape::Transition(ReportStatus::Cancelled)),
    ("CancelRefundResponse", ReportKind::RefundRequest, Shape::One),
    ("GetRefundResponse", ReportKind::RefundRequest, Shape::One),
    ("ListRefundsResponse", ReportKind::RefundRequest, Shape::List),
];

/// The report element's name and its list's name.
const fn element_names(kind: ReportKind) -> (&'static str, &'static str) {
    match kind {
        ReportKind::InfractionReport => ("InfractionReport", "InfractionReports"),
        ReportKind::RefundRequest => ("Refund", "Refunds"),
    }
}

/// Decodes one DICT document.
pub fn decode(body: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    let text = xml::utf8(body)?;
    let doc = xml::parse(text, NODES_LIMIT)?;
    let root_node = doc.root_element();
    let name = root_node.tag_name().name();
    if root_node.tag_name().namespace().is_some() {
        return Err(vec![Reason::new(
            ReasonCode::XmlNamespaceUnknown,
            name_path(name),
            "DICT documents have no namespace",
        )]);
    }
    let Some(&(document, kind, shape)) = ROOTS.iter().find(|(n, _, _)| *n == name) else {
        return Err(vec![Reason::new(
            ReasonCode::XmlRootUnknown,
            "",
            "root element is not a DICT infraction report or refund document",
        )]);
    };
    let root = El { node: root_node, ns: "", path: document.into() };
    let reports = reports(&root, kind, shape).map_err(|r| vec![r])?;
    let signed = root.opt("Signature").ok().flatten().is_some_and(|s| s.node.children().any(|c| c.is_element()));
    let flags: &[Flag] = if signed { &[] } else { &[Flag::SignatureAbsent] };
    let raw_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
    let rctx = ReportContext {
        kind,
        ingested_at: ctx.ingested_at,
        source_id: &ctx.source_id,
        document,
        raw_sha256: &raw_sha256,
        flags,
    };
    Ok(reports
        .iter()
        .enumerate()
        .map(|(index, el)| {
            let raw = read::report(&root, el, shape);
            let end_to_end_id = raw.as_ref().ok().and_then(|r| readable_id(r.transaction_id.as_deref()));
            let verdict =
                raw.and_then(|r| judge_report(&r, index, &rctx)).map(|report| vec![Published::FraudReport(report)]);
            DecodedItem { index, raw: ItemBytes::Whole, verdict, end_to_end_id }
        })
        .collect())
}

/// A path that names only an allow-listed root, never the input's own element name.
fn name_path(name: &str) -> String {
    ROOTS.iter().find(|(n, _, _)| *n == name).map_or_else(String::new, |(n, _, _)| (*n).to_owned())
}

/// The report elements of a document (for a transition request, the root itself).
fn reports<'a, 'i>(root: &El<'a, 'i>, kind: ReportKind, shape: Shape) -> Result<Vec<El<'a, 'i>>, Reason> {
    let (one, list) = element_names(kind);
    match shape {
        Shape::One => Ok(vec![root.req(one)?]),
        Shape::List => Ok(root.req(list)?.all(one)),
        Shape::Transition(_) => Ok(vec![root.clone()]),
    }
}
