//! Cross-field rules and soft flags (docs/pix-domain.md §2–§5, §9) over the values [`super::rules`] read.

use chrono::TimeDelta;

use super::input::Checker;
use super::rules::Parsed;
use crate::event::{EventType, Flag, InitiationType, ReturnReasonCode};
use crate::reason::{Field, Reason, ReasonCode};

/// How far the endToEndId's embedded minute may be from `event_time` before it is flagged.
const E2E_SKEW: TimeDelta = TimeDelta::hours(12);

/// Applies every rule that needs more than one member.
pub(crate) fn check(c: &mut Checker, p: &mut Parsed) {
    required_by_type(c, p);
    amounts(c, p);
    end_to_end_flags(c, p);
    key_rules(c, p);
    if let (Some(priority), Some(level)) = (p.priority, p.service_level)
        && level.priority() != priority
    {
        c.reject(
            ReasonCode::RulePriorityServiceLevel,
            "service_level",
            format!("{level} requires priority {}, got {priority}", level.priority()),
        );
    }
    refund_nature(c, p);
}

fn required_by_type(c: &mut Checker, p: &Parsed) {
    match p.event_type {
        Some(EventType::Return) => {
            if !p.has_return_id {
                c.reasons.push(Reason::missing(Field::ReturnId, "return_id"));
            }
            if p.return_reason_code.is_none() && !c.reasons.iter().any(|r| r.path == "return_reason_code") {
                c.reasons.push(Reason::missing(Field::ReturnReasonCode, "return_reason_code"));
            }
        }
        Some(EventType::Transfer) if p.has_return_id => {
            c.reject(
                ReasonCode::RuleReturnIdOnTransfer,
                "return_id",
                "a TRANSFER has no return id; use RETURN or STATUS",
            );
        }
        Some(EventType::Transfer | EventType::Status) | None => {}
    }
    // Amount: required except on STATUS (a status report carries no amount).
    if !p.has_amount && matches!(p.event_type, Some(EventType::Transfer | EventType::Return)) {
        c.reasons.push(Reason::missing(Field::Amount, "amount"));
    }
}

fn amounts(c: &mut Checker, p: &Parsed) {
    if let Some(sent) = p.sent_amount_cents {
        match p.amount {
            Some(a) if a.cents() != sent => {
                c.reject(ReasonCode::AmountCentsMismatch, "amount_cents", "amount_cents disagrees with amount");
            }
            None if !p.has_amount => {
                c.reject(ReasonCode::AmountCentsMismatch, "amount_cents", "amount_cents given without amount");
            }
            _ => {}
        }
    }
    if let Some(b) = &p.amount_breakdown {
        match p.amount {
            Some(a) if !b.is_consistent(a) => c.flag(Flag::ComponentesValorInconsistent),
            None if p.has_amount => {} // amount itself already rejected
            None => c.flag(Flag::ComponentesValorInconsistent),
            Some(_) => {}
        }
    }
}

fn end_to_end_flags(c: &mut Checker, p: &Parsed) {
    let Some(e2e) = &p.end_to_end_id else { return };
    match (e2e.timestamp(), p.event_time) {
        (None, _) => c.flag(Flag::E2eTimestampInvalidDate),
        (Some(embedded), Some(event_time)) => {
            let delta = event_time.as_utc().naive_utc() - embedded;
            if delta.abs() > E2E_SKEW {
                c.flag(Flag::E2eTimestampSkew);
            }
        }
        (Some(_), None) => {}
    }
    if let Some(payer_ispb) = p.payer.as_ref().and_then(|x| x.ispb.as_ref())
        && payer_ispb.as_str() != e2e.ispb_str()
    {
        c.flag(Flag::E2eIspbMismatch);
    }
}

fn key_rules(c: &mut Checker, p: &Parsed) {
    if let Some(key) = &p.pix_key
        && !key.follows_type_rule()
    {
        c.flag(Flag::PixKeyFormat);
    }
    let Some(initiation) = p.initiation_type else { return };
    let key_present = p.pix_key.is_some() || c.reasons.iter().any(|r| r.path == "pix_key");
    if initiation.requires_key() && !key_present {
        c.reject(ReasonCode::RuleProxyRequired, "pix_key", format!("initiation {initiation} requires a Pix key"));
    }
    if matches!(initiation, InitiationType::Manu | InitiationType::Auto) && p.pix_key.is_some() {
        c.flag(Flag::ProxyUnexpected);
    }
}

fn refund_nature(c: &mut Checker, p: &mut Parsed) {
    match (p.return_reason_code, p.refund_nature) {
        (Some(code), Some(nature)) if code.nature() != nature => c.reject(
            ReasonCode::RuleRefundNature,
            "refund_nature",
            format!("return_reason_code {code} means {}, got {nature}", code.nature()),
        ),
        // Absent nature is derived from the code (docs/pix-domain.md §5 mapping).
        (Some(code), None) => p.refund_nature = Some(code.nature()),
        // A nature without a code: derive the code back, the mapping is one-to-one.
        (None, Some(nature)) => {
            p.return_reason_code = ReturnReasonCode::ALL.iter().copied().find(|c| c.nature() == nature);
        }
        _ => {}
    }
}
