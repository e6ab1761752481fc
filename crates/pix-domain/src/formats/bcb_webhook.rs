//! BCB API Pix webhook body `{"pix": [...]}` and GET /pix response `{"parametros", "pix": [...]}`
//! (docs/pix-domain.md §7.3, §6): every `pix[]` item is a receipt, every `devolucoes[]` item a refund we send.
//!
//! The API is loose by design (new fields and enum values may appear), so unknown members are
//! ignored, unknown enum values become `UNKNOWN` plus flag `UNKNOWN_ENUM_VALUE`, and the known
//! deviations of BCB's own examples are accepted with a flag (`DEVOLUCOES_NOT_ARRAY`,
//! `LEGACY_FIELD_NAME`). Field rules (formats, amounts, dates) are the validator's.
//!
//! Item numbering, in document order: `pix[0]` is item 0, its devoluções 1, 2, …, then `pix[1]`
//! and its devoluções, and so on. Every item's dead letter is the whole body plus that index.

use serde_json::{Map, Value, json};

use super::{
    DecodeContext, DecodedItem, Envelope, Framing, ItemBytes, Mapped, MediaType, WireFormat, embedded_ispb, put,
    readable_id,
};
use crate::decode;
use crate::event::{Amount, Category, Direction, Flag, Ispb, RefundNature, ReturnReasonCode};
use crate::reason::{Field, Reason, ReasonCode};

/// `bcb_webhook`: the API Pix webhook POST and the GET /pix answer (both JSON).
pub struct BcbWebhook;

impl WireFormat for BcbWebhook {
    fn media_types(&self) -> &'static [MediaType] {
        &[MediaType { essence: "application/json", canonical: "application/json", framing: Framing::Json }]
    }

    fn line_oriented(&self) -> bool {
        false
    }

    /// [`decode`]; always one JSON document, so `framing` is ignored.
    fn decode(&self, body: &[u8], _framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        decode(body, ctx)
    }
}

/// Decodes a webhook / GET /pix body.
pub fn decode(body: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    // Same payload checks as canonical items: UTF-8, depth, syntax, duplicate member names.
    let root = decode::parse_item(body)?;
    let Value::Object(root) = root else {
        return Err(vec![Reason::new(ReasonCode::PayloadNotObject, "", "body is not a JSON object")]);
    };
    let pix = match root.get("pix") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(vec![Reason::missing(Field::Pix, "pix")]),
        Some(_) => return Err(vec![Reason::wrong_type(Field::Pix, "pix", "a JSON array")]),
    };
    // GET /pix answers carry `parametros`; the items are the same `Pix` objects.
    let kind = if root.contains_key("parametros") { "bcb_get_pix" } else { "bcb_webhook" };
    let env = Envelope::new(ctx, kind, body);
    let us = ctx.own_ispbs.first();

    let mut out = Vec::new();
    for (n, item) in pix.iter().enumerate() {
        let index = out.len();
        let Value::Object(item) = item else {
            let reason = Reason::wrong_type(Field::Pix, format!("pix[{n}]"), "a JSON object");
            out.push(DecodedItem { index, raw: ItemBytes::Whole, verdict: Err(vec![reason]), end_to_end_id: None });
            continue;
        };
        let e2e = item.get("endToEndId").and_then(Value::as_str);
        let verdict = match us {
            Some(us) => env.validate(index, receipt(item, us)),
            None => Err(vec![undeterminable()]),
        };
        out.push(DecodedItem { index, raw: ItemBytes::Whole, verdict, end_to_end_id: readable_id(e2e) });

        let (devolucoes, not_array) = match item.get("devolucoes") {
            Some(Value::Array(list)) => (list.iter().collect::<Vec<_>>(), false),
            // BCB's own webhook example sends one devolução as an object.
            Some(obj @ Value::Object(_)) => (vec![obj], true),
            _ => (Vec::new(), false),
        };
        let exceeds = refunds_exceed(item, &devolucoes);
        for (d, dev) in devolucoes.into_iter().enumerate() {
            let index = out.len();
            let verdict = match (dev, us) {
                (Value::Object(dev), Some(us)) => {
                    let mut mapped = refund(item, dev, us);
                    if not_array {
                        mapped.flags.push(Flag::DevolucoesNotArray);
                    }
                    if exceeds {
                        mapped.flags.push(Flag::RefundExceedsOriginal);
                    }
                    env.validate(index, mapped)
                }
                (Value::Object(_), None) => Err(vec![undeterminable()]),
                _ => Err(vec![Reason::wrong_type(
                    Field::Devolucoes,
                    format!("pix[{n}].devolucoes[{d}]"),
                    "a JSON object",
                )]),
            };
            out.push(DecodedItem { index, raw: ItemBytes::Whole, verdict, end_to_end_id: readable_id(e2e) });
        }
    }
    Ok(out)
}

/// With no own ISPB there is no "us" to be the payee of a receipt, so an item cannot even be mapped
/// and this is its only reason. A configuration problem, not an item defect: the service's
/// configuration refuses an empty `own_ispbs`.
fn undeterminable() -> Reason {
    Reason::new(ReasonCode::CategoryUndeterminable, "payee.ispb", "no own ISPB configured")
}

/// Members common to a receipt and its refunds: the E2E, and the payer ISPB it embeds.
fn base(pix: &Map<String, Value>, event_type: &str, us: &Ispb) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("schema_version".into(), json!("1"));
    v.insert("event_type".into(), json!(event_type));
    put(&mut v, "end_to_end_id", pix.get("endToEndId").cloned());
    v.insert("payee".into(), json!({ "ispb": us.as_str() }));
    // The API does not carry the payer; its PSP is the one that generated the endToEndId. Only a
    // well-shaped ISPB is copied, so a malformed id is reported once (e2e.format), not twice.
    if let Some(ispb) = pix.get("endToEndId").and_then(Value::as_str).and_then(embedded_ispb) {
        v.insert("payer".into(), json!({ "ispb": ispb.as_str() }));
    }
    v
}

/// A `pix[]` item → TRANSFER, SETTLED, receipt INBOUND.
fn receipt(pix: &Map<String, Value>, us: &Ispb) -> Mapped {
    let mut v = base(pix, "TRANSFER", us);
    let mut flags = Vec::new();
    v.insert("status".into(), json!("SETTLED"));
    put(&mut v, "amount", pix.get("valor").cloned());
    put(&mut v, "event_time", pix.get("horario").cloned());
    put(&mut v, "settled_at", pix.get("horario").cloned());
    put(&mut v, "txid", pix.get("txid").cloned());
    put(&mut v, "pix_key", pix.get("chave").cloned());
    put(&mut v, "remittance_info", pix.get("infoPagador").cloned());
    put(&mut v, "amount_breakdown", pix.get("componentesValor").map(|c| breakdown(c, &mut flags)));
    Mapped { value: v, placements: vec![(Category::Receipt, Direction::Inbound)], intra_psp: false, flags }
}

/// A `devolucoes[]` item → RETURN, refund OUTBOUND, keyed by the parent's endToEndId.
fn refund(pix: &Map<String, Value>, dev: &Map<String, Value>, us: &Ispb) -> Mapped {
    let mut v = base(pix, "RETURN", us);
    let mut flags = Vec::new();
    put(&mut v, "return_id", dev.get("rtrId").cloned());
    put(&mut v, "refund_request_id", dev.get("id").cloned());
    put(&mut v, "amount", dev.get("valor").cloned());
    put(&mut v, "remittance_info", dev.get("descricao").cloned());
    put(&mut v, "status_reason_text", dev.get("motivo").cloned());
    let status = match dev.get("status") {
        None | Some(Value::Null) => None, // required: the validator reports field.missing.status
        Some(Value::String(s)) if s == "EM_PROCESSAMENTO" => Some("IN_PROCESS"),
        Some(Value::String(s)) if s == "DEVOLVIDO" => Some("SETTLED"),
        Some(Value::String(s)) if s == "NAO_REALIZADO" => Some("REJECTED"),
        Some(_) => {
            flags.push(Flag::UnknownEnumValue);
            Some("UNKNOWN")
        }
    };
    put(&mut v, "status", status.map(|s| json!(s)));
    // Absent natureza means ORIGINAL (MD06). An unknown one is kept as the API's default and
    // flagged: RETURN needs a reason code, and rejecting a real refund over a new label would lose it.
    let nature = match dev.get("natureza").and_then(Value::as_str) {
        None => RefundNature::Original,
        Some(s) => RefundNature::parse(s).unwrap_or_else(|| {
            flags.push(Flag::UnknownEnumValue);
            RefundNature::Original
        }),
    };
    v.insert("refund_nature".into(), json!(nature.as_str()));
    // The one-to-one natureza ↔ code mapping of docs/pix-domain.md §5 (ORIGINAL = MD06, …).
    let code = ReturnReasonCode::ALL.iter().find(|c| c.nature() == nature).map(|c| c.as_str());
    put(&mut v, "return_reason_code", code.map(|c| json!(c)));
    match dev.get("horario") {
        Some(Value::Object(h)) => {
            let settled = h.get("liquidacao").filter(|x| !x.is_null());
            put(&mut v, "event_time", settled.or_else(|| h.get("solicitacao")).cloned());
            put(&mut v, "settled_at", settled.cloned());
        }
        // Not an object: hand it to the validator as event_time, which reports the type problem.
        other => put(&mut v, "event_time", other.cloned()),
    }
    Mapped { value: v, placements: vec![(Category::Refund, Direction::Outbound)], intra_psp: false, flags }
}

/// `componentesValor` → `amount_breakdown`: known components and members only; an unknown
/// `modalidadeAgente` is dropped with `UNKNOWN_ENUM_VALUE`. Everything else goes through as sent,
/// so the validator judges amounts and ISPBs (and flags the legacy `prestadorDeServicoDeSaque`).
fn breakdown(c: &Value, flags: &mut Vec<Flag>) -> Value {
    let Value::Object(c) = c else { return c.clone() };
    let mut out = Map::new();
    for name in crate::event::AmountBreakdown::MEMBERS {
        let Some(comp) = c.get(name) else { continue };
        let Value::Object(comp) = comp else {
            out.insert(name.to_owned(), comp.clone());
            continue;
        };
        let mut kept = Map::new();
        for member in ["valor", "prestadorDoServicoDeSaque", "prestadorDeServicoDeSaque"] {
            put(&mut kept, member, comp.get(member).cloned());
        }
        match comp.get("modalidadeAgente") {
            Some(Value::String(m)) if crate::event::AgentModality::parse(m).is_none() => {
                flags.push(Flag::UnknownEnumValue);
            }
            other => put(&mut kept, "modalidadeAgente", other.cloned()),
        }
        out.insert(name.to_owned(), Value::Object(kept));
    }
    Value::Object(out)
}

/// Whether the devoluções still counting (not NAO_REALIZADO) add up to more than the Pix.
fn refunds_exceed(pix: &Map<String, Value>, devolucoes: &[&Value]) -> bool {
    let cents = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| Amount::parse_positive(s).ok());
    let Some(original) = cents(pix.get("valor")) else { return false };
    let total: i128 = devolucoes
        .iter()
        .filter(|d| d.get("status").and_then(Value::as_str) != Some("NAO_REALIZADO"))
        .filter_map(|d| cents(d.get("valor")))
        .map(|a| i128::from(a.cents()))
        .sum();
    total > i128::from(original.cents())
}
