//! Field-level rules: read every member of a canonical item into typed values (docs/pix-domain.md §2–§5, §8).
//!
//! Each reader records its own reasons and carries on, so an item with five problems yields five
//! reasons. Cross-field rules live in [`super::cross`]; categorisation in [`super::category`].

use serde_json::Value;

use super::input::{Checker, Obj};
use crate::event::{
    Account, AccountNumber, Amount, AmountBreakdown, AmountError, Branch, Category, Cnpj, Component, Direction,
    EndToEndId, EventType, InitiationType, Ispb, MessageId, Party, PersonalText, PixKey, Priority, Purpose,
    RefundNature, RefundRequestId, ReturnId, ReturnReasonCode, SCHEMA_VERSION, ServiceLevel, Status, TimeError,
    Timestamp, TxId,
};
use crate::event::{Flag, pattern};
use crate::reason::{EnumField, Field, ReasonCode};

/// Longest free text (names, remittance info, status reason text): ISO 20022 Max140Text.
pub(crate) const MAX_TEXT: usize = 140;

/// Top-level members of the canonical item.
///
/// An unknown member is never read into the event. By default the item is published flagged
/// `UNKNOWN_FIELD` (a producer adding a member must not stop its flow, and the flag makes the drop
/// visible); under `UnknownFields::Reject` it is refused with `field.unknown`, for a deployment
/// that treats the canonical shape as a closed contract.
pub(crate) const TOP_LEVEL: &[&str] = &[
    "schema_version",
    "event_id",
    "event_type",
    "category",
    "direction",
    "end_to_end_id",
    "return_id",
    "refund_request_id",
    "txid",
    "message_id",
    "amount",
    "amount_cents",
    "currency",
    "amount_breakdown",
    "event_time",
    "settled_at",
    "message_created_at",
    "ingested_at",
    "status",
    "status_reason_code",
    "status_reason_text",
    "payer",
    "payee",
    "pix_key",
    "pix_key_type",
    "initiation_type",
    "initiator_cnpj",
    "purpose",
    "priority",
    "service_level",
    "remittance_info",
    "return_reason_code",
    "refund_nature",
    "is_med",
    "intra_psp",
    "local_hour",
    "night_period",
    "source",
    "flags",
];
const PARTY: &[&str] = &["ispb", "tax_id", "tax_id_type", "name", "account"];
const ACCOUNT: &[&str] = &["branch", "number", "type"];
const COMPONENT: &[&str] = &["valor", "modalidadeAgente", "prestadorDoServicoDeSaque", "prestadorDeServicoDeSaque"];

/// Everything read from the item; `None` where absent or invalid (the reason is in the checker).
#[derive(Default)]
pub(crate) struct Parsed {
    pub event_type: Option<EventType>,
    pub status: Option<Status>,
    pub end_to_end_id: Option<EndToEndId>,
    pub return_id: Option<ReturnId>,
    pub refund_request_id: Option<RefundRequestId>,
    pub txid: Option<TxId>,
    pub message_id: Option<MessageId>,
    pub amount: Option<Amount>,
    pub amount_breakdown: Option<AmountBreakdown>,
    pub event_time: Option<Timestamp>,
    pub settled_at: Option<Timestamp>,
    pub message_created_at: Option<Timestamp>,
    pub status_reason_code: Option<String>,
    pub status_reason_text: Option<PersonalText>,
    pub payer: Option<Party>,
    pub payee: Option<Party>,
    pub pix_key: Option<PixKey>,
    pub initiation_type: Option<InitiationType>,
    pub initiator_cnpj: Option<Cnpj>,
    pub purpose: Option<Purpose>,
    pub priority: Option<Priority>,
    pub service_level: Option<ServiceLevel>,
    pub remittance_info: Option<PersonalText>,
    pub return_reason_code: Option<ReturnReasonCode>,
    pub refund_nature: Option<RefundNature>,
    /// Producer-sent derived values, checked against ours later.
    pub sent_event_id: Option<String>,
    pub sent_category: Option<Category>,
    pub sent_direction: Option<Direction>,
    pub sent_amount_cents: Option<i64>,
    /// Whether `return_id` was present at all (even if invalid), for the required-field rules.
    pub has_return_id: bool,
    pub has_amount: bool,
}

fn time_err(e: TimeError) -> (ReasonCode, String) {
    match e {
        TimeError::Format => {
            (ReasonCode::DatetimeFormat, "expected RFC 3339 with a zone, e.g. 2020-09-09T17:15:00.358-03:00".into())
        }
        TimeError::Value => (ReasonCode::DatetimeValue, "not a real calendar date-time".into()),
    }
}

fn amount_err(e: AmountError) -> (ReasonCode, String) {
    let code = match e {
        AmountError::Format => ReasonCode::AmountFormat,
        AmountError::NonPositive => ReasonCode::AmountNonPositive,
        AmountError::OutOfRange => ReasonCode::AmountOutOfRange,
    };
    (code, e.to_string())
}

/// Reads the whole item.
pub(crate) fn read(c: &mut Checker, root: &Obj<'_>) -> Parsed {
    c.unknown(root, TOP_LEVEL);
    let mut p = Parsed::default();

    match root.value("schema_version") {
        None => c.reasons.push(super::Reason::missing(Field::SchemaVersion, "schema_version")),
        Some(Value::String(s)) if s == SCHEMA_VERSION => {}
        Some(Value::String(_)) => {
            c.reject(ReasonCode::SchemaVersionUnsupported, "schema_version", "only \"1\" is supported")
        }
        Some(_) => {
            c.reasons.push(super::Reason::wrong_type(Field::SchemaVersion, "schema_version", "the string \"1\""))
        }
    }

    identifiers(c, root, &mut p);
    amounts_and_times(c, root, &mut p);
    parties_and_codes(c, root, &mut p);
    p.sent_event_id = c.opt_str(root, "event_id", Field::EventId).map(str::to_owned);
    p.sent_category = c.enumerated(root, "category", (Field::Category, EnumField::Category), false);
    p.sent_direction = c.enumerated(root, "direction", (Field::Direction, EnumField::Direction), false);
    // pix_key_type, is_med, intra_psp, local_hour, night_period, ingested_at, source and flags are
    // derived or set by pix-ingest; values sent by the producer are accepted and overwritten
    // (a replayed event carries them, and our derivation is the authority).
    p
}

/// Type, status and the identifiers (endToEndId, return id, devolução id, txid, message id).
fn identifiers(c: &mut Checker, root: &Obj<'_>, p: &mut Parsed) {
    p.event_type = c.enumerated(root, "event_type", (Field::EventType, EnumField::EventType), true);
    p.status = c.enumerated(root, "status", (Field::Status, EnumField::Status), true);
    p.end_to_end_id =
        c.parsed(root, "end_to_end_id", Field::EndToEndId, true, str::parse, |e: crate::event::IdError| {
            (ReasonCode::E2eFormat, e.detail)
        });
    p.has_return_id = root.has("return_id");
    p.return_id = c.parsed(root, "return_id", Field::ReturnId, false, str::parse, |e: crate::event::IdError| {
        (ReasonCode::RtrIdFormat, e.detail)
    });
    p.refund_request_id =
        c.parsed(root, "refund_request_id", Field::RefundRequestId, false, str::parse, |e: crate::event::IdError| {
            (ReasonCode::RefundRequestIdFormat, e.detail)
        });
    p.txid = c.parsed(root, "txid", Field::Txid, false, str::parse, |e: crate::event::IdError| {
        (ReasonCode::TxidFormat, e.detail)
    });
    p.message_id = c.parsed(root, "message_id", Field::MessageId, false, str::parse, |e: crate::event::IdError| {
        (ReasonCode::MessageIdFormat, e.detail)
    });
}

/// Amount, currency, breakdown, the times, the status reason and the free texts.
fn amounts_and_times(c: &mut Checker, root: &Obj<'_>, p: &mut Parsed) {
    p.has_amount = root.has("amount");
    p.amount = c.parsed(root, "amount", Field::Amount, false, Amount::parse_positive, amount_err);
    p.sent_amount_cents = c.opt_i64(root, "amount_cents", Field::AmountCents);
    if let Some(cur) = c.opt_str(root, "currency", Field::Currency)
        && cur != "BRL"
    {
        c.reject(ReasonCode::CurrencyNotBrl, "currency", "only BRL is accepted");
    }
    if let Some(obj) = c.opt_obj(root, "amount_breakdown", Field::AmountBreakdown) {
        p.amount_breakdown = Some(breakdown(c, &obj));
    }

    p.event_time = c.parsed(root, "event_time", Field::EventTime, true, Timestamp::parse, time_err);
    p.settled_at = c.parsed(root, "settled_at", Field::SettledAt, false, Timestamp::parse, time_err);
    p.message_created_at =
        c.parsed(root, "message_created_at", Field::MessageCreatedAt, false, Timestamp::parse, time_err);

    p.status_reason_code = c.parsed(
        root,
        "status_reason_code",
        Field::StatusReasonCode,
        false,
        |s| if pattern::STATUS_REASON.is_match(s) { Ok(s.to_owned()) } else { Err(()) },
        |()| {
            (
                ReasonCode::Enum(EnumField::StatusReasonCode),
                "expected 4 upper-case alphanumerics (ISO 20022 code)".into(),
            )
        },
    );
    p.status_reason_text = c.text(root, "status_reason_text", Field::StatusReasonText, MAX_TEXT).map(PersonalText::new);
    p.remittance_info = c.text(root, "remittance_info", Field::RemittanceInfo, MAX_TEXT).map(PersonalText::new);
}

/// Payer, payee, the key, and the closed lists of the payment (initiation, purpose, priority, …).
fn parties_and_codes(c: &mut Checker, root: &Obj<'_>, p: &mut Parsed) {
    if let Some(obj) = c.opt_obj(root, "payer", Field::Payer) {
        p.payer = Some(party(c, &obj, false));
    }
    match c.opt_obj(root, "payee", Field::Payee) {
        Some(obj) => p.payee = Some(party(c, &obj, true)),
        None if !root.has("payee") => c.reasons.push(super::Reason::missing(Field::Payee, "payee")),
        None => {}
    }

    p.pix_key =
        c.parsed(root, "pix_key", Field::PixKey, false, PixKey::parse, |e| (ReasonCode::PixKeyFormat, e.to_string()));
    p.initiation_type =
        c.enumerated(root, "initiation_type", (Field::InitiationType, EnumField::InitiationType), false);
    p.initiator_cnpj =
        c.opt_str(root, "initiator_cnpj", Field::InitiatorCnpj).and_then(|s| cnpj(c, s, root.path("initiator_cnpj")));
    p.purpose = c.enumerated(root, "purpose", (Field::Purpose, EnumField::Purpose), false);
    p.priority = c.enumerated(root, "priority", (Field::Priority, EnumField::Priority), false);
    p.service_level = c.enumerated(root, "service_level", (Field::ServiceLevel, EnumField::ServiceLevel), false);
    p.return_reason_code =
        c.enumerated(root, "return_reason_code", (Field::ReturnReasonCode, EnumField::ReturnReasonCode), false);
    p.refund_nature = c.enumerated(root, "refund_nature", (Field::RefundNature, EnumField::RefundNature), false);
}

fn cnpj(c: &mut Checker, s: &str, path: String) -> Option<Cnpj> {
    if s.len() != 14 {
        c.reject(ReasonCode::TaxIdFormat, path, crate::event::ids::describe(s, "a 14-character CNPJ"));
        return None;
    }
    match c.tax_id(s, path)? {
        crate::event::TaxId::Cnpj(v) => Some(v),
        crate::event::TaxId::Cpf(_) => None,
    }
}

fn party(c: &mut Checker, obj: &Obj<'_>, is_payee: bool) -> Party {
    c.unknown(obj, PARTY);
    let ispb = c.parsed(obj, "ispb", Field::Ispb, is_payee, str::parse::<Ispb>, |e| (ReasonCode::IspbFormat, e.detail));
    let tax_id = c.opt_str(obj, "tax_id", Field::TaxId).and_then(|s| c.tax_id(s, obj.path("tax_id")));
    let sent_type = c.enumerated(obj, "tax_id_type", (Field::TaxIdType, EnumField::TaxIdType), false);
    if let (Some(id), Some(sent)) = (&tax_id, sent_type)
        && id.kind() != sent
    {
        c.reject(
            ReasonCode::TaxIdTypeMismatch,
            obj.path("tax_id_type"),
            format!("tax id has the length of a {}", id.kind()),
        );
    }
    if let (None, Some(_)) = (&tax_id, sent_type)
        && !obj.has("tax_id")
    {
        c.reject(ReasonCode::FieldMissing(Field::TaxId), obj.path("tax_id"), "tax_id_type given without tax_id");
    }
    let name = c.text(obj, "name", Field::Name, MAX_TEXT).map(PersonalText::new);
    let account = c.opt_obj(obj, "account", Field::Account).and_then(|a| account(c, &a));
    Party { ispb, tax_id_type: tax_id.as_ref().map(|t| t.kind()), tax_id, name, account }
}

fn account(c: &mut Checker, obj: &Obj<'_>) -> Option<Account> {
    c.unknown(obj, ACCOUNT);
    let branch =
        c.parsed(obj, "branch", Field::Branch, false, Branch::parse, |e| (ReasonCode::AccountFormat, e.detail));
    let number =
        c.parsed(obj, "number", Field::Number, true, AccountNumber::parse, |e| (ReasonCode::AccountFormat, e.detail));
    let account_type = c.enumerated(obj, "type", (Field::AccountType, EnumField::AccountType), false);
    Some(Account { branch, number: number?, account_type })
}

fn breakdown(c: &mut Checker, obj: &Obj<'_>) -> AmountBreakdown {
    c.unknown(obj, &AmountBreakdown::MEMBERS);
    let mut out = AmountBreakdown::default();
    for name in AmountBreakdown::MEMBERS {
        let Some(comp) = c.opt_obj(obj, name, Field::Component) else { continue };
        c.unknown(&comp, COMPONENT);
        let valor = c.parsed(&comp, "valor", Field::Valor, true, Amount::parse_non_negative, amount_err);
        let modalidade_agente =
            c.enumerated(&comp, "modalidadeAgente", (Field::ModalidadeAgente, EnumField::ModalidadeAgente), false);
        let mut prestador = c.parsed(
            &comp,
            "prestadorDoServicoDeSaque",
            Field::PrestadorDoServicoDeSaque,
            false,
            str::parse::<Ispb>,
            |e| (ReasonCode::IspbFormat, e.detail),
        );
        if comp.has("prestadorDeServicoDeSaque") {
            c.flag(Flag::LegacyFieldName);
            let legacy = c.parsed(
                &comp,
                "prestadorDeServicoDeSaque",
                Field::PrestadorDoServicoDeSaque,
                false,
                str::parse::<Ispb>,
                |e| (ReasonCode::IspbFormat, e.detail),
            );
            prestador = prestador.or(legacy);
        }
        if let (Some(valor), Some(slot)) = (valor, out.slot(name)) {
            *slot = Some(Component { valor, modalidade_agente, prestador_do_servico_de_saque: prestador });
        }
    }
    out
}
