//! Category and direction from our own ISPBs (docs/pix-domain.md §6), for canonical items.
//!
//! The payer's ISPB is `payer.ispb`, else the one embedded in the endToEndId (positions 2–9).
//!
//! | Kind | payer own | payee own | both own | neither |
//! |---|---|---|---|---|
//! | refund (RETURN, STATUS with return_id, TRANSFER with purpose REFU) | RETURN/STATUS: INBOUND; REFU transfer: OUTBOUND | RETURN/STATUS: OUTBOUND; REFU transfer: INBOUND | one refund, OUTBOUND, intra_psp | undeterminable |
//! | TRANSFER / STATUS | payment OUTBOUND | receipt INBOUND | payment OUTBOUND + receipt INBOUND, intra_psp | undeterminable |
//!
//! In a RETURN, payer/payee are the parties of the *original* Pix, so the money flows from payee to
//! payer: the payee's PSP being ours means we give money back (OUTBOUND). A pacs.008 with purpose REFU
//! (MED of Pix Automático) is itself the money movement, so its payer sends. A refund between two of
//! our own ISPBs is one event (there is one refund, not a pair), marked `intra_psp` and OUTBOUND.

use super::Authority;
use super::input::Checker;
use super::rules::Parsed;
use crate::event::{Category, Direction, EventType, Ispb, Purpose};
use crate::reason::ReasonCode;

/// One (category, direction) the item is published as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    pub category: Category,
    pub direction: Direction,
}

/// Result of categorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Categorised {
    pub placements: Vec<Placement>,
    pub intra_psp: bool,
}

/// What categorisation needs from the item.
pub(crate) struct CategoryInput<'a> {
    pub event_type: EventType,
    pub has_return_id: bool,
    pub purpose: Option<crate::event::Purpose>,
    pub payer_ispb: &'a str,
    pub payee_ispb: &'a str,
}

/// Whether the item is a refund (docs/pix-domain.md §6).
pub(crate) fn is_refund(event_type: EventType, has_return_id: bool, purpose: Option<Purpose>) -> bool {
    match event_type {
        EventType::Return => true,
        EventType::Status => has_return_id,
        EventType::Transfer => purpose == Some(Purpose::Refu),
    }
}

/// The item's placements under `authority`. `None` when it has none: neither side is ours
/// (`category.undeterminable` is recorded), or what categorisation needs is missing or invalid
/// (its reasons are recorded already).
///
/// Deciding "neither side is ours" needs only the two ISPBs (`payer.ispb`, else the endToEndId's),
/// so an undeterminable item is reported as such even when its type or identifiers are broken.
pub(crate) fn place(c: &mut Checker, p: &Parsed, own: &[Ispb], authority: &Authority) -> Option<Categorised> {
    match authority {
        Authority::Declared { placements, intra_psp } if !placements.is_empty() => {
            let placements = placements.iter().map(|&(category, direction)| Placement { category, direction });
            return Some(Categorised { placements: placements.collect(), intra_psp: *intra_psp });
        }
        Authority::Undeterminable(reason) => {
            c.reasons.push(reason.clone());
            return None;
        }
        // An empty declaration means the adapter could not place it: judge by the ISPBs.
        Authority::Declared { .. } | Authority::Derived => {}
    }
    let payee_ispb = p.payee.as_ref()?.ispb.as_ref()?.as_str();
    let payer_ispb = match p.payer.as_ref().and_then(|x| x.ispb.as_ref()) {
        Some(ispb) => ispb.as_str(),
        None => p.end_to_end_id.as_ref()?.ispb_str(),
    };
    let input = CategoryInput {
        event_type: p.event_type.unwrap_or(EventType::Transfer),
        has_return_id: p.has_return_id,
        purpose: p.purpose,
        payer_ispb,
        payee_ispb,
    };
    let Some(categorised) = categorise(&input, own) else {
        c.reject(ReasonCode::CategoryUndeterminable, "payee.ispb", "neither payer nor payee ISPB is one of ours");
        return None;
    };
    // Without its type the item's placements are unknown; its missing type is already a reason.
    p.event_type.map(|_| categorised)
}

/// Derives placements; `None` when neither side is ours (`category.undeterminable`).
pub(crate) fn categorise(input: &CategoryInput<'_>, own: &[Ispb]) -> Option<Categorised> {
    let is_own = |ispb: &str| own.iter().any(|o| o.as_str() == ispb);
    let (payer_own, payee_own) = (is_own(input.payer_ispb), is_own(input.payee_ispb));
    let intra_psp = payer_own && payee_own;
    let place = |category, direction| Placement { category, direction };
    let placements = if is_refund(input.event_type, input.has_return_id, input.purpose) {
        // Who sends the money: the original payee for a devolução, the payer for a REFU pacs.008.
        let we_send = if input.event_type == EventType::Transfer { payer_own } else { payee_own };
        match (payer_own || payee_own, we_send) {
            (false, _) => return None,
            (true, true) => vec![place(Category::Refund, Direction::Outbound)],
            (true, false) => vec![place(Category::Refund, Direction::Inbound)],
        }
    } else {
        match (payer_own, payee_own) {
            (true, true) => {
                vec![place(Category::Payment, Direction::Outbound), place(Category::Receipt, Direction::Inbound)]
            }
            (true, false) => vec![place(Category::Payment, Direction::Outbound)],
            (false, true) => vec![place(Category::Receipt, Direction::Inbound)],
            (false, false) => return None,
        }
    };
    Some(Categorised { placements, intra_psp })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        event_type: EventType,
        has_return_id: bool,
        purpose: Option<Purpose>,
        payer: &str,
        payee: &str,
    ) -> Option<Categorised> {
        let own: Vec<Ispb> = vec!["11111111".parse().unwrap(), "22222222".parse().unwrap()];
        categorise(&CategoryInput { event_type, has_return_id, purpose, payer_ispb: payer, payee_ispb: payee }, &own)
    }

    fn pl(c: &Categorised) -> Vec<(Category, Direction)> {
        c.placements.iter().map(|p| (p.category, p.direction)).collect()
    }

    #[test]
    fn table() {
        use Category::*;
        use Direction::*;
        use EventType::*;
        let t = |et, rid, purp, a, b| run(et, rid, purp, a, b).map(|c| (pl(&c), c.intra_psp));
        assert_eq!(t(Transfer, false, None, "11111111", "99999999"), Some((vec![(Payment, Outbound)], false)));
        assert_eq!(t(Transfer, false, None, "99999999", "22222222"), Some((vec![(Receipt, Inbound)], false)));
        assert_eq!(
            t(Transfer, false, None, "11111111", "22222222"),
            Some((vec![(Payment, Outbound), (Receipt, Inbound)], true))
        );
        assert_eq!(t(Transfer, false, None, "99999999", "88888888"), None);
        assert_eq!(t(Status, false, None, "11111111", "99999999"), Some((vec![(Payment, Outbound)], false)));
        assert_eq!(t(Status, true, None, "11111111", "99999999"), Some((vec![(Refund, Inbound)], false)));
        assert_eq!(t(Return, true, None, "99999999", "22222222"), Some((vec![(Refund, Outbound)], false)));
        assert_eq!(t(Return, true, None, "11111111", "99999999"), Some((vec![(Refund, Inbound)], false)));
        assert_eq!(t(Return, true, None, "11111111", "22222222"), Some((vec![(Refund, Outbound)], true)));
        assert_eq!(t(Return, true, None, "99999999", "88888888"), None);
        assert_eq!(
            t(Transfer, false, Some(Purpose::Refu), "11111111", "99999999"),
            Some((vec![(Refund, Outbound)], false))
        );
        assert_eq!(
            t(Transfer, false, Some(Purpose::Refu), "99999999", "11111111"),
            Some((vec![(Refund, Inbound)], false))
        );
    }
}
