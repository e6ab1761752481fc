//! pacs.002 (FIToFIPmtStsRpt, status report) → STATUS events, one item per `TxInfAndSts`.
//!
//! Placement (docs/pix-domain.md §7.4): `OrgnlInstrId` starting with `D` → status of a refund (OUTBOUND when
//! the returning PSP, the ISPB inside the D-id, is ours); `ACSC` → payment; `ACCC`, or `ACSP`
//! sent by us → receipt; `RJCT` (and an `ACSP` we receive) → payment when the ISPB inside
//! `OrgnlEndToEndId` is ours, else receipt.
//!
//! Parties: the payer is the PSP inside the E-id. A pacs.002 does not name the payee's PSP; for a
//! receipt status it is us (the own ISPB of AppHdr), for a refund status the PSP inside the D-id,
//! and for a payment status it is unknown: the canonical schema requires `payee.ispb`, so it is
//! set to the SPI's ISPB `00038166` (the counterparty of the message), never a guessed PSP. The
//! same placeholder stands for "us" in a message where neither AppHdr side is ours, which is
//! refused as `category.undeterminable` together with the item's other defects.

use serde_json::Value;

use super::xml::{self, El};
use super::{Message, SPI_ISPB, Side, TxOutcome, base, check_count, party_ispb};
use crate::event::{Category, Direction};
use crate::formats::{Mapped, embedded_ispb, put};
use crate::reason::{EnumField, Reason, ReasonCode};

/// `ExternalStatusReason1Code` of pacs.002.spi.1.17 (catalog 5.13.1 XSD, 45 codes). Older
/// versions differ (1.8 has `DS0H`) and their XSDs were not available: for them only the
/// validator's shape rule (4 upper-case alphanumerics) applies.
const REASONS_1_17: &[&str] = &[
    "AB03", "AB09", "AB11", "AC03", "AC06", "AC07", "AC14", "AG03", "AG12", "AG13", "AGNT", "AM01", "AM02", "AM04",
    "AM09", "AM12", "AM18", "AM23", "BE01", "BE05", "BE15", "BE17", "CH11", "CH16", "CN01", "DS02", "DS04", "DS0G",
    "DS27", "DT02", "DT05", "DU03", "DUPL", "ED05", "FF07", "FF08", "FRAD", "INDT", "MD01", "RC09", "RC10", "RR04",
    "RR06", "SL02", "UPAY",
];

pub(crate) fn transactions(message: &Message<'_>, doc: &El<'_, '_>) -> Result<Vec<TxOutcome>, Vec<Reason>> {
    let txs = doc.all("TxInfAndSts");
    // 1.17 has no NbOfTxs; when a version carries it, it must match.
    check_count(doc, false, txs.len())?;
    Ok(txs
        .iter()
        .map(|tx| TxOutcome {
            end_to_end_id: tx.opt_text(&["OrgnlEndToEndId"]).ok().flatten(),
            mapped: map(message, tx).map_err(|r| vec![r]),
        })
        .collect())
}

fn map(message: &Message<'_>, tx: &El<'_, '_>) -> Result<Mapped, Reason> {
    let instr = tx.req_text(&["OrgnlInstrId"])?;
    let e2e = tx.req_text(&["OrgnlEndToEndId"])?;
    let sts_el = tx.req("TxSts")?;
    let sts = sts_el.text();
    let status = match sts.as_str() {
        "ACSP" => "IN_PROCESS",
        "ACSC" | "ACCC" => "SETTLED",
        "RJCT" => "REJECTED",
        _ => {
            let detail = "expected one of ACCC, ACSC, ACSP, RJCT";
            return Err(Reason::new(ReasonCode::Enum(EnumField::Status), sts_el.path, detail));
        }
    };
    let mut v = base(message, "STATUS", status);
    v.insert("end_to_end_id".into(), e2e.clone().into());
    let is_refund = instr.starts_with('D');
    if is_refund {
        v.insert("return_id".into(), instr.clone().into());
    }
    reasons(message, tx, &mut v)?;
    let settled = tx.opt_text(&["FctvIntrBkSttlmDt", "DtTm"])?;
    if let Some(t) = &settled {
        xml::check_datetime(t, &format!("{}/FctvIntrBkSttlmDt/DtTm", tx.path))?;
    }
    put(&mut v, "settled_at", settled.clone().map(Value::from));
    v.insert("event_time".into(), settled.unwrap_or_else(|| message.group_created.clone()).into());

    let e2e_ispb = embedded_ispb(&e2e).map(|i| i.as_str().to_owned());
    let e2e_own = message.is_own(e2e_ispb.as_deref());
    let category = if is_refund {
        Category::Refund
    } else {
        match (sts.as_str(), message.side) {
            ("ACSC", _) => Category::Payment,
            ("ACCC", _) | ("ACSP", Some(Side::Sender)) => Category::Receipt,
            _ if e2e_own => Category::Payment,
            _ => Category::Receipt,
        }
    };
    let returner = embedded_ispb(&instr).map(|i| i.as_str().to_owned());
    let (direction, payee) = match category {
        Category::Refund => {
            let dir = if message.is_own(returner.as_deref()) { Direction::Outbound } else { Direction::Inbound };
            (dir, returner)
        }
        Category::Payment => (Direction::Outbound, Some(SPI_ISPB.to_owned())),
        // Neither AppHdr side ours: the item is refused as undeterminable, and "us" is unknown. The
        // placeholder keeps a member the message never carries from being reported as missing.
        // (A status report is never a fraud report; the arm only completes the match.)
        Category::Receipt | Category::FraudReport => {
            (Direction::Inbound, message.our_ispb.clone().or_else(|| Some(SPI_ISPB.to_owned())))
        }
    };
    put(&mut v, "payer", e2e_ispb.as_deref().map(party_ispb));
    v.insert("payee".into(), payee.as_deref().map_or_else(|| serde_json::json!({}), party_ispb));
    let placements = if message.side.is_some() { vec![(category, direction)] } else { Vec::new() };
    Ok(Mapped { value: v, placements, intra_psp: false, flags: Vec::new() })
}

/// First `StsRsnInf/Rsn/Cd` → `status_reason_code` (closed list for 1.17); every `AddtlInf`
/// joined with "; " → `status_reason_text` (the validator bounds it to 140 characters).
fn reasons(message: &Message<'_>, tx: &El<'_, '_>, v: &mut serde_json::Map<String, Value>) -> Result<(), Reason> {
    let mut code = None;
    let mut texts = Vec::new();
    for info in tx.all("StsRsnInf") {
        if let Some(cd) = info.opt_path(&["Rsn", "Cd"])? {
            let c = cd.text();
            if message.version == "1.17" && !REASONS_1_17.contains(&c.as_str()) {
                let detail = "not an ExternalStatusReason1Code of pacs.002.spi.1.17";
                return Err(Reason::new(ReasonCode::Enum(EnumField::StatusReasonCode), cd.path, detail));
            }
            code.get_or_insert(c);
        }
        texts.extend(info.all("AddtlInf").iter().map(El::text));
    }
    put(v, "status_reason_code", code.map(Value::from));
    if !texts.is_empty() {
        v.insert("status_reason_text".into(), texts.join("; ").into());
    }
    Ok(())
}
