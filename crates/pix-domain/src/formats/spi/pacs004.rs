//! pacs.004 (PmtRtr, the devolução) → RETURN events, one item per `TxInf`; always a refund
//! (docs/pix-domain.md §7.4): we send the message → we return money (OUTBOUND); we receive it → INBOUND.
//!
//! `OrgnlTxRef/DbtrAgt` is the original payer's PSP (payer.ispb) and `OrgnlTxRef/CdtrAgt` the
//! original receiver's, the one returning (payee.ispb). The agent on our side not being ours is
//! flagged `AGENT_MISMATCH`. Return reasons are closed: BE08, FR01, MD06, SL02.

use serde_json::Value;

use super::xml::{self, El};
use super::{Message, Side, TxOutcome, base, check_count, party_ispb};
use crate::event::{Category, Direction, Flag};
use crate::formats::{Mapped, put};
use crate::reason::{EnumField, Reason, ReasonCode};

/// pacs.004 `RtrRsnInf/Rsn/Cd` values (the same in 1.3 and 1.5 as far as the sources show).
const RETURN_REASONS: &[&str] = &["BE08", "FR01", "MD06", "SL02"];

pub(crate) fn transactions(message: &Message<'_>, doc: &El<'_, '_>) -> Result<Vec<TxOutcome>, Vec<Reason>> {
    let txs = doc.all("TxInf");
    check_count(doc, true, txs.len())?;
    Ok(txs
        .iter()
        .map(|tx| TxOutcome {
            end_to_end_id: tx.opt_text(&["OrgnlEndToEndId"]).ok().flatten(),
            mapped: map(message, tx).map_err(|r| vec![r]),
        })
        .collect())
}

fn map(message: &Message<'_>, tx: &El<'_, '_>) -> Result<Mapped, Reason> {
    let mut v = base(message, "RETURN", "PENDING");
    v.insert("return_id".into(), tx.req_text(&["RtrId"])?.into());
    v.insert("end_to_end_id".into(), tx.req_text(&["OrgnlEndToEndId"])?.into());
    v.insert("amount".into(), xml::amount(&tx.req("RtrdIntrBkSttlmAmt")?)?.into());
    // A devolução's time is its message's creation (it has no acceptance time of its own).
    v.insert("event_time".into(), message.group_created.clone().into());
    put(&mut v, "priority", tx.opt_text(&["SttlmPrty"])?.map(Value::from));
    let reason = tx.req_path(&["RtrRsnInf", "Rsn", "Cd"])?;
    let code = reason.text();
    if !RETURN_REASONS.contains(&code.as_str()) {
        return Err(Reason::new(
            ReasonCode::Enum(EnumField::ReturnReasonCode),
            reason.path,
            format!("expected one of {}", RETURN_REASONS.join(", ")),
        ));
    }
    v.insert("return_reason_code".into(), code.into());
    let agent = |who: &str| tx.opt_text(&["OrgnlTxRef", who, "FinInstnId", "ClrSysMmbId", "MmbId"]);
    let (payer_agent, payee_agent) = (agent("DbtrAgt")?, agent("CdtrAgt")?);
    put(&mut v, "payer", payer_agent.as_deref().map(party_ispb));
    // payee.ispb is required; without OrgnlTxRef/CdtrAgt the validator reports it missing.
    v.insert("payee".into(), payee_agent.as_deref().map_or_else(|| serde_json::json!({}), party_ispb));

    let mut flags = Vec::new();
    let placements = match message.side {
        None => Vec::new(),
        Some(Side::Sender) => {
            if !message.is_own(payee_agent.as_deref()) {
                flags.push(Flag::AgentMismatch);
            }
            vec![(Category::Refund, Direction::Outbound)]
        }
        Some(Side::Receiver) => {
            if !message.is_own(payer_agent.as_deref()) {
                flags.push(Flag::AgentMismatch);
            }
            vec![(Category::Refund, Direction::Inbound)]
        }
    };
    let intra_psp = message.is_own(payer_agent.as_deref()) && message.is_own(payee_agent.as_deref());
    Ok(Mapped { value: v, placements, intra_psp, flags })
}
