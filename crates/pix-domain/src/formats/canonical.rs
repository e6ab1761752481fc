//! The canonical format through the [`crate::formats`] interface: exactly what the service does
//! today ([`split_body`] + [`validate_canonical`]), with item ranges for the dead letters.

use serde_json::Value;

use super::{DecodeContext, DecodedItem, Framing, ItemBytes, MediaType, WireFormat, readable_id};
use crate::decode::{BodyFormat, split_body};
use crate::event::Published;
use crate::reason::Reason;
use crate::validate::{ValidationContext, validate_canonical};

/// `canonical`: our own JSON events, one object, an array of them, or NDJSON.
pub struct Canonical;

impl WireFormat for Canonical {
    fn media_types(&self) -> &'static [MediaType] {
        const NDJSON: &str = "application/x-ndjson";
        &[
            MediaType { essence: "application/json", canonical: "application/json", framing: Framing::Json },
            MediaType { essence: NDJSON, canonical: NDJSON, framing: Framing::Ndjson },
            MediaType { essence: "application/ndjson", canonical: NDJSON, framing: Framing::Ndjson },
            MediaType { essence: "application/jsonl", canonical: NDJSON, framing: Framing::Ndjson },
        ]
    }

    fn line_oriented(&self) -> bool {
        true
    }

    /// JSON and NDJSON as [`decode_canonical`]; an XML framing is refused whole (`payload.unparseable`).
    fn decode(&self, body: &[u8], framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        match framing {
            Framing::Json => decode_canonical(body, BodyFormat::Json, ctx),
            Framing::Ndjson => decode_canonical(body, BodyFormat::Ndjson, ctx),
            Framing::Xml => Err(vec![Reason::unparseable("canonical events are JSON, not XML")]),
        }
    }
}

/// Decodes a canonical body framed as `framing` (the service picks it from the Content-Type).
///
/// The same as `Format::Canonical.decode(body, framing.into(), ctx)`, which new callers should use.
///
/// `Err` only when the body itself is unusable (not JSON, too deep, no line): the same cases as
/// [`split_body`]. Each item is one [`DecodedItem`] whose `raw` is its exact slice of `body`.
pub fn decode_canonical(
    body: &[u8],
    framing: BodyFormat,
    ctx: &DecodeContext,
) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    let items = split_body(body, framing).map_err(|r| vec![r])?;
    let mut vctx = ValidationContext::new(ctx.own_ispbs.clone(), ctx.source_id.clone(), ctx.ingested_at);
    vctx.tax_id_check_digits = ctx.tax_id_check_digits;
    vctx.unknown_fields = ctx.unknown_fields;
    Ok(items
        .into_iter()
        .map(|item| {
            vctx.item_index = item.index;
            DecodedItem {
                index: item.index,
                raw: ItemBytes::Slice(offset_in(body, item.bytes)),
                verdict: validate_canonical(item.bytes, &vctx)
                    .map(|events| events.into_iter().map(|a| Published::Pix(a.event)).collect())
                    .map_err(|r| r.reasons),
                end_to_end_id: e2e_of(item.bytes),
            }
        })
        .collect())
}

/// Range of `part` inside `body` (`part` is always a sub-slice handed out by `split_body`).
pub(crate) fn offset_in(body: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize).min(body.len());
    start..(start + part.len()).min(body.len())
}

/// `end_to_end_id` of an item when it is JSON and the id is readable.
fn e2e_of(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    readable_id(v.get("end_to_end_id").and_then(Value::as_str))
}
