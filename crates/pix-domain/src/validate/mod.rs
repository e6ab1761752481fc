//! The one shared validator for canonical JSON items (docs/pix-domain.md §2–§6, §8).
//!
//! [`validate_canonical`] turns one item's bytes into the events to publish, or a [`Rejection`]
//! listing every hard problem. Soft problems never reject; they become [`Flag`]s on the event.
//!
//! Input contract (a JSON object in the shape of `docs/pix-domain.md §5`):
//! - required: `schema_version` (`"1"`), `event_type`, `end_to_end_id`, `event_time`, `status`,
//!   `payee.ispb`; `amount` except on STATUS (a JSON string); `return_id` and `return_reason_code`
//!   on RETURN. `currency` defaults to BRL. `null` counts as absent.
//! - derived by us: `event_id`, `category`, `direction`, `amount_cents` (a producer value that
//!   disagrees is rejected: `event_id.mismatch`, `category.conflict`, `direction.conflict`,
//!   `amount.cents_mismatch`); `pix_key_type`, `tax_id_type` (checked against the length when sent),
//!   `is_med`, `intra_psp`, `local_hour`, `night_period`, `refund_nature` (when absent).
//! - set by us, producer values ignored: `ingested_at`, `source`, `flags` (a replayed event carries
//!   them; the ingest that accepts it is the authority, and the flags are recomputed).
//! - unknown members: left out of the event and flagged `UNKNOWN_FIELD`, or `field.unknown`, as
//!   [`UnknownFields`] says (see [`rules`]).

mod category;
mod cross;
pub(crate) mod fraud;
mod input;
mod rules;

#[cfg(test)]
mod samples;
#[cfg(test)]
pub(crate) mod tests;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The reason types, defined in [`crate::reason`]; re-exported here so `validate::Reason` keeps working.
pub use crate::reason::{EnumField, Field, Reason, ReasonCode, Stage};

use crate::decode;
use crate::event::{
    Currency, EventId, EventType, Flag, Ispb, Party, PixEvent, Purpose, SchemaVersion, Source, Timestamp,
};
use category::{Categorised, is_refund};
use input::{Checker, Obj};

/// What to do when a CPF/CNPJ has the right shape but wrong check digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckDigitPolicy {
    /// Reject with `tax_id.check_digit` (the default).
    #[default]
    Strict,
    /// Publish with flag `TAX_ID_CHECK_DIGIT` (format errors still reject).
    Warn,
}

/// What a canonical member the schema does not define does to its item
/// (`formats.canonical.unknown_fields` in the service's config; docs/pix-domain.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownFields {
    /// Publish the event without the unknown members, flagged `UNKNOWN_FIELD` (the default: a
    /// producer that adds a member to its events keeps flowing, like the BCB formats).
    #[default]
    Flag,
    /// Reject the item with one `field.unknown` per unknown member.
    Reject,
}

/// Everything the validator needs besides the item.
#[derive(Debug, Clone)]
pub struct ValidationContext {
    /// Our ISPBs (including indirect participants we settle for).
    pub own_ispbs: Vec<Ispb>,
    /// Check-digit policy for tax ids.
    pub tax_id_check_digits: CheckDigitPolicy,
    /// Policy for members the schema does not define.
    pub unknown_fields: UnknownFields,
    /// Stamped as `ingested_at` on every event.
    pub ingested_at: DateTime<Utc>,
    /// Id of the pix-ingest source, copied to `source.id`.
    pub source_id: String,
    /// `source.kind`, `"canonical"` for this validator's own input.
    pub source_kind: String,
    /// Position of the item in its body, copied to `source.item_index`.
    pub item_index: usize,
}

impl ValidationContext {
    /// A context for canonical input with the default policies (strict check digits, unknown
    /// members flagged).
    pub fn new(own_ispbs: Vec<Ispb>, source_id: impl Into<String>, ingested_at: DateTime<Utc>) -> Self {
        ValidationContext {
            own_ispbs,
            tax_id_check_digits: CheckDigitPolicy::Strict,
            unknown_fields: UnknownFields::default(),
            ingested_at,
            source_id: source_id.into(),
            source_kind: "canonical".to_owned(),
            item_index: 0,
        }
    }
}

/// One event to publish (its category decides the topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The validated event.
    pub event: PixEvent,
}

/// An item that must go to the DLQ, with every hard problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// All reasons, in the order found; never empty.
    pub reasons: Vec<Reason>,
}

impl Rejection {
    /// The first reason's code (the `pix-dlq-reason` header).
    pub fn first_code(&self) -> ReasonCode {
        self.reasons.first().map_or(ReasonCode::PayloadUnparseable, |r| r.code)
    }
}

/// Validates one canonical item.
///
/// Returns one event, or two for an intra-PSP transfer (payment and receipt, same `event_id`,
/// `intra_psp = true`). Never panics, whatever the bytes.
pub fn validate_canonical(item: &[u8], ctx: &ValidationContext) -> Result<Vec<Accepted>, Rejection> {
    validate_with(item, ctx, &Authority::Derived)
}

/// Who decides an item's category and direction.
///
/// Canonical input is [`Authority::Derived`]: the validator derives them from `payer`/`payee`
/// against our ISPBs, and a producer-sent `category`/`direction` that disagrees is a conflict.
/// Wire-format adapters ([`crate::formats`]) know more than the canonical fields say (the SPI
/// `AppHdr` From/To, "every API Pix item is a receipt"), so they state the placements with
/// [`Authority::Declared`], or say with [`Authority::Undeterminable`] that no placement exists;
/// every other rule still runs unchanged. Adapters never send `category`/`direction` members, so
/// the conflict checks do not apply to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authority {
    /// Derive from own ISPBs (docs/pix-domain.md §6 table for canonical items).
    Derived,
    /// Publish exactly these (category, direction) placements; `intra_psp` as given.
    Declared { placements: Vec<(crate::event::Category, crate::event::Direction)>, intra_psp: bool },
    /// The adapter found that neither side is ours: this `category.undeterminable` reason joins
    /// whatever else is wrong with the item, and the item is refused.
    Undeterminable(Reason),
}

/// [`validate_canonical`] with an explicit [`Authority`] (the adapters' entry point).
///
/// Every rule runs whatever else is wrong, so a rejection lists every hard defect in a stable
/// order: field rules in the fixed order [`rules::read`] reads them (not the item's member order),
/// cross-field rules, `category.undeterminable`, then the
/// producer's derived values (`event_id.mismatch`, `category.conflict`, `direction.conflict`).
pub(crate) fn validate_with(
    item: &[u8],
    ctx: &ValidationContext,
    authority: &Authority,
) -> Result<Vec<Accepted>, Rejection> {
    let value = decode::parse_item(item).map_err(|reasons| Rejection { reasons })?;
    let Value::Object(map) = &value else {
        return Err(Rejection {
            reasons: vec![Reason::new(ReasonCode::PayloadNotObject, "", "item is not a JSON object")],
        });
    };
    let mut c = Checker::new(ctx.tax_id_check_digits, ctx.unknown_fields);
    let mut p = rules::read(&mut c, &Obj::root(map));
    cross::check(&mut c, &mut p);
    let categorised = category::place(&mut c, &p, &ctx.own_ispbs, authority);
    let event_id = derived_values(&mut c, &p, categorised.as_ref());
    let (Some(categorised), Some(event_id), Some(event_type), Some(status), Some(e2e), Some(event_time), Some(payee)) =
        (categorised, event_id, p.event_type, p.status, p.end_to_end_id.clone(), p.event_time, p.payee.clone())
    else {
        return Err(rejection(c));
    };
    if !c.reasons.is_empty() {
        return Err(rejection(c));
    }
    let known = Known { event_id, event_type, status, e2e, event_time, payee };
    Ok(publish(p, known, c.flags, ctx, item, &categorised))
}

/// Derives the `event_id` and checks the producer's derived values against ours
/// (`event_id.mismatch`, `category.conflict`, `direction.conflict`). `None` when the id cannot be
/// derived (a part of it is missing or invalid; its reason is already recorded).
fn derived_values(c: &mut Checker, p: &rules::Parsed, categorised: Option<&Categorised>) -> Option<EventId> {
    let (event_type, status, e2e) = (p.event_type?, p.status?, p.end_to_end_id.as_ref()?);
    let tx_id = match (&p.return_id, is_refund(event_type, p.has_return_id, p.purpose)) {
        (Some(rid), true) => rid.as_str(),
        // A refund whose return id is unreadable has no id to compare with.
        (None, true) if p.has_return_id => return None,
        _ => e2e.as_str(),
    };
    let event_id = EventId::derive(tx_id, event_type, status);
    if let Some(sent) = &p.sent_event_id
        && sent != event_id.as_str()
    {
        c.reject(ReasonCode::EventIdMismatch, "event_id", "expected {tx_id}:{event_type}:{status}");
    }
    let placements = categorised.map_or(&[][..], |cat| &cat.placements);
    if let Some(sent) = p.sent_category
        && categorised.is_some()
        && !placements.iter().any(|pl| pl.category == sent)
    {
        c.reject(ReasonCode::CategoryConflict, "category", format!("derived from own ISPBs: not {sent}"));
    }
    if let Some(sent) = p.sent_direction
        && categorised.is_some()
        && !placements.iter().any(|pl| pl.direction == sent && p.sent_category.is_none_or(|cat| cat == pl.category))
    {
        c.reject(ReasonCode::DirectionConflict, "direction", format!("derived from own ISPBs: not {sent}"));
    }
    Some(event_id)
}

/// The required values of an item that passed every rule.
struct Known {
    event_id: EventId,
    event_type: EventType,
    status: crate::event::Status,
    e2e: crate::event::EndToEndId,
    event_time: Timestamp,
    payee: Party,
}

/// The events of a valid item, one per placement.
fn publish(
    p: rules::Parsed,
    k: Known,
    mut flags: Vec<Flag>,
    ctx: &ValidationContext,
    item: &[u8],
    categorised: &Categorised,
) -> Vec<Accepted> {
    let is_med = p.return_reason_code.is_some_and(|code| code.is_med())
        || (k.event_type == EventType::Transfer && p.purpose == Some(Purpose::Refu));
    // Flags in declaration order, so identical input always yields byte-identical output.
    flags.sort();
    let source = Source {
        kind: ctx.source_kind.clone(),
        msg_def: None,
        item_index: ctx.item_index,
        raw_sha256: hex::encode(Sha256::digest(item)),
        id: ctx.source_id.clone(),
    };
    let base = PixEvent {
        schema_version: SchemaVersion::V1,
        event_id: k.event_id,
        event_type: k.event_type,
        category: crate::event::Category::Payment, // replaced per placement below
        direction: crate::event::Direction::Outbound,
        end_to_end_id: k.e2e,
        return_id: p.return_id,
        refund_request_id: p.refund_request_id,
        txid: p.txid,
        message_id: p.message_id,
        amount_cents: p.amount.map(|a| a.cents()),
        currency: p.amount.map(|_| Currency::Brl),
        amount: p.amount,
        amount_breakdown: p.amount_breakdown,
        event_time: k.event_time,
        settled_at: p.settled_at,
        message_created_at: p.message_created_at,
        ingested_at: Timestamp::from_utc(ctx.ingested_at),
        status: k.status,
        status_reason_code: p.status_reason_code,
        status_reason_text: p.status_reason_text,
        payer: p.payer.filter(|x| *x != Party::default()),
        payee: k.payee,
        pix_key_type: p.pix_key.as_ref().map(|k| k.classify()),
        pix_key: p.pix_key,
        initiation_type: p.initiation_type,
        initiator_cnpj: p.initiator_cnpj,
        purpose: p.purpose,
        priority: p.priority,
        service_level: p.service_level,
        remittance_info: p.remittance_info,
        return_reason_code: p.return_reason_code,
        refund_nature: p.refund_nature,
        is_med,
        intra_psp: categorised.intra_psp,
        local_hour: k.event_time.local_hour(),
        night_period: k.event_time.night_period(),
        source,
        flags,
    };
    categorised
        .placements
        .iter()
        .map(|pl| Accepted { event: PixEvent { category: pl.category, direction: pl.direction, ..base.clone() } })
        .collect()
}

fn rejection(c: Checker) -> Rejection {
    let mut reasons = c.reasons;
    if reasons.is_empty() {
        // Defensive: every early return above follows a recorded reason; keep the contract "never empty".
        reasons.push(Reason::unparseable("item rejected"));
    }
    Rejection { reasons }
}

/// Every flag this validator can emit (for documentation and metrics).
pub const EMITTED_FLAGS: &[Flag] = &[
    Flag::E2eTimestampInvalidDate,
    Flag::E2eTimestampSkew,
    Flag::E2eIspbMismatch,
    Flag::PixKeyFormat,
    Flag::ProxyUnexpected,
    Flag::LegacyFieldName,
    Flag::ComponentesValorInconsistent,
    Flag::TaxIdCheckDigit,
    Flag::UnknownField,
];
