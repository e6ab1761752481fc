//! pacs.008 (FIToFICstmrCdtTrf, the payment order) → TRANSFER events, one item per `CdtTrfTxInf`.
//!
//! Placement (docs/pix-domain.md §7.4): `Purp/Cd` REFU → refund (MED of Pix Automático); DbtrAgt and CdtrAgt
//! both ours → payment + receipt (intra-PSP); else AppHdr decides: we send → payment OUTBOUND, we
//! receive → receipt INBOUND. The agents only cross-check: the agent on our side not being one of
//! ours is flagged `AGENT_MISMATCH` (an indirect participant we carry), never rejected.
//!
//! Not mapped yet: the Saque/Troco `RmtInf/Strd` detail (amount_breakdown) and `Tax/Rcrd`.

use serde_json::{Map, Value, json};

use super::xml::{self, El};
use super::{Message, Side, TxOutcome, base, check_count, party_ispb};
use crate::event::{Category, Direction, Flag};
use crate::formats::{Mapped, put};
use crate::reason::Reason;

pub(crate) fn transactions(message: &Message<'_>, doc: &El<'_, '_>) -> Result<Vec<TxOutcome>, Vec<Reason>> {
    let txs = doc.all("CdtTrfTxInf");
    check_count(doc, true, txs.len())?;
    // Priority and service level are batch-level; a structure problem there refuses the batch.
    let tp = doc.req("GrpHdr").and_then(|g| g.opt("PmtTpInf")).map_err(|r| vec![r])?;
    let priority = tp.as_ref().map(|t| t.opt_text(&["InstrPrty"])).transpose().map_err(|r| vec![r])?.flatten();
    let level = tp.as_ref().map(|t| t.opt_text(&["SvcLvl", "Prtry"])).transpose().map_err(|r| vec![r])?.flatten();
    Ok(txs
        .iter()
        .map(|tx| {
            let e2e = tx.opt_text(&["PmtId", "EndToEndId"]).ok().flatten();
            let mapped = map(message, tx, priority.as_deref(), level.as_deref()).map_err(|r| vec![r]);
            TxOutcome { mapped, end_to_end_id: e2e }
        })
        .collect())
}

fn map(message: &Message<'_>, tx: &El<'_, '_>, priority: Option<&str>, level: Option<&str>) -> Result<Mapped, Reason> {
    let mut v = base(message, "TRANSFER", "PENDING");
    let pmt = tx.req("PmtId")?;
    v.insert("end_to_end_id".into(), pmt.req_text(&["EndToEndId"])?.into());
    put(&mut v, "txid", pmt.opt_text(&["TxId"])?.map(Value::from));
    v.insert("amount".into(), xml::amount(&tx.req("IntrBkSttlmAmt")?)?.into());
    let accepted = tx.req_text(&["AccptncDtTm"])?;
    xml::check_datetime(&accepted, &format!("{}/AccptncDtTm", tx.path))?;
    v.insert("event_time".into(), accepted.into());
    put(&mut v, "priority", priority.map(Value::from));
    put(&mut v, "service_level", level.map(Value::from));
    put(&mut v, "initiation_type", tx.opt_text(&["MndtRltdInf", "Tp", "LclInstrm", "Prtry"])?.map(Value::from));
    put(&mut v, "initiator_cnpj", tx.opt_text(&["InitgPty", "Id", "OrgId", "Othr", "Id"])?.map(Value::from));
    put(&mut v, "pix_key", tx.opt_text(&["CdtrAcct", "Prxy", "Id"])?.map(Value::from));
    let purpose = tx.opt_text(&["Purp", "Cd"])?;
    put(&mut v, "purpose", purpose.clone().map(Value::from));
    put(&mut v, "remittance_info", tx.opt_text(&["RmtInf", "Ustrd"])?.map(Value::from));

    let debtor_agent = tx.req_text(&["DbtrAgt", "FinInstnId", "ClrSysMmbId", "MmbId"])?;
    let creditor_agent = tx.req_text(&["CdtrAgt", "FinInstnId", "ClrSysMmbId", "MmbId"])?;
    let mut payer = party(tx, "Dbtr", "DbtrAcct", &debtor_agent)?;
    if let Some(name) = tx.opt_text(&["Dbtr", "Nm"])? {
        payer.insert("name".into(), name.into());
    }
    v.insert("payer".into(), Value::Object(payer));
    v.insert("payee".into(), Value::Object(party(tx, "Cdtr", "CdtrAcct", &creditor_agent)?));

    let (debtor_own, creditor_own) = (message.is_own(Some(&debtor_agent)), message.is_own(Some(&creditor_agent)));
    let mut flags = Vec::new();
    let (placements, intra_psp) = match message.side {
        // Direction is moot without a side: decode() rejects the item as undeterminable.
        None => (Vec::new(), false),
        Some(side) => {
            let agent_ok = match side {
                Side::Sender => debtor_own,
                Side::Receiver => creditor_own,
            };
            if !agent_ok {
                flags.push(Flag::AgentMismatch);
            }
            let direction = if side == Side::Sender { Direction::Outbound } else { Direction::Inbound };
            if purpose.as_deref() == Some("REFU") {
                (vec![(Category::Refund, direction)], debtor_own && creditor_own)
            } else if debtor_own && creditor_own {
                (vec![(Category::Payment, Direction::Outbound), (Category::Receipt, Direction::Inbound)], true)
            } else if side == Side::Sender {
                (vec![(Category::Payment, Direction::Outbound)], false)
            } else {
                (vec![(Category::Receipt, Direction::Inbound)], false)
            }
        }
    };
    Ok(Mapped { value: v, placements, intra_psp, flags })
}

/// A party: agent ISPB, `{who}/Id/PrvtId/Othr/Id` tax id, `{acct}` account (branch = `Issr`).
fn party(tx: &El<'_, '_>, who: &str, acct: &str, ispb: &str) -> Result<Map<String, Value>, Reason> {
    let mut p = Map::new();
    p.insert("ispb".into(), party_ispb(ispb)["ispb"].clone());
    put(&mut p, "tax_id", tx.opt_text(&[who, "Id", "PrvtId", "Othr", "Id"])?.map(Value::from));
    if let Some(account) = tx.opt(acct)? {
        let mut a = Map::new();
        put(&mut a, "number", account.opt_text(&["Id", "Othr", "Id"])?.map(Value::from));
        put(&mut a, "branch", account.opt_text(&["Id", "Othr", "Issr"])?.map(Value::from));
        put(&mut a, "type", account.opt_text(&["Tp", "Cd"])?.map(Value::from));
        if !a.is_empty() {
            p.insert("account".into(), json!(a));
        }
    }
    Ok(p)
}
