//! One line of a system log (`log_line`): a canonical JSON event or an SPI XML message, possibly
//! after a prefix such as a timestamp and a level (`2026-11-25T14:30:05Z INFO pix: {...}`).
//!
//! The exact rule, applied to the line without its trailing `\r`/`\n`/spaces:
//! 1. `j` = the first `{`; `x` = the first `<?xml` or `<Envelope` (whichever comes first).
//! 2. If `j` exists and comes before `x` (or there is no `x`): the payload is `line[j..]`, one
//!    canonical JSON event judged by [`validate_canonical`] (item 0, `source.kind = "log_line"`,
//!    dead letter = exactly that slice). Category comes from the event's own payer/payee as for
//!    any canonical item: a log adapter states direction through the event, never by guessing.
//! 3. Else if `x` exists: the payload is `line[x..]`, decoded as SPI XML ([`super::spi`]), or as a
//!    DICT document ([`super::dict`]) when its first element is one of the DICT roots (then `x`
//!    may also be that element's `<`); the item indexes are the transaction (report) indexes and
//!    each dead letter is the whole line.
//! 4. Else: `payload.unparseable` (whole line).
//!
//! So a prefix must not itself contain `{`, `<?xml` or `<Envelope`; anything after the payload
//! (a trailing comment) makes the payload unparseable rather than being silently cut off.

use super::canonical::offset_in;
use super::{DecodeContext, DecodedItem, Framing, ItemBytes, MediaType, WireFormat, readable_id};
use crate::event::Published;
use crate::reason::Reason;
use crate::validate::{ValidationContext, validate_canonical};

/// `log_line`: read from files one line at a time, never served over HTTP.
pub struct LogLine;

impl WireFormat for LogLine {
    fn media_types(&self) -> &'static [MediaType] {
        &[]
    }

    fn line_oriented(&self) -> bool {
        true
    }

    /// [`decode`]; the line itself says whether it carries JSON or XML, so `framing` is ignored.
    fn decode(&self, line: &[u8], _framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        decode(line, ctx)
    }
}

/// Decodes one log line.
pub fn decode(line: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    let end = line.iter().rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t')).map_or(0, |p| p + 1);
    let line = line.get(..end).unwrap_or_default();
    let json = find(line, b"{");
    let dict_root =
        super::dict::ROOTS.iter().filter_map(|(name, _, _)| find(line, format!("<{name}").as_bytes())).min();
    let xml = [find(line, b"<?xml"), find(line, b"<Envelope"), dict_root].into_iter().flatten().min();
    match (json, xml) {
        (Some(j), x) if x.is_none_or(|x| j < x) => Ok(vec![json_event(line, j, ctx)]),
        (_, Some(x)) => {
            let payload = line.get(x..).unwrap_or_default();
            if dict_root.is_some_and(|d| first_element(line, x) == Some(d)) {
                super::dict::decode(payload, ctx)
            } else {
                super::spi::decode(payload, ctx)
            }
        }
        _ => Err(vec![Reason::unparseable("log line holds neither a JSON object nor an SPI XML message")]),
    }
}

/// Position of the first element's `<` at or after `from` (skipping `<?…` and `<!…`).
fn first_element(line: &[u8], from: usize) -> Option<usize> {
    let rest = line.get(from..)?;
    rest.windows(2).position(|w| w[0] == b'<' && w[1] != b'?' && w[1] != b'!').map(|p| p + from)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn json_event(line: &[u8], start: usize, ctx: &DecodeContext) -> DecodedItem {
    let payload = line.get(start..).unwrap_or_default();
    let mut vctx = ValidationContext::new(ctx.own_ispbs.clone(), ctx.source_id.clone(), ctx.ingested_at);
    vctx.tax_id_check_digits = ctx.tax_id_check_digits;
    "log_line".clone_into(&mut vctx.source_kind);
    let e2e = serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| readable_id(v.get("end_to_end_id").and_then(serde_json::Value::as_str)));
    DecodedItem {
        index: 0,
        raw: ItemBytes::Slice(offset_in(line, payload)),
        verdict: validate_canonical(payload, &vctx)
            .map(|a| a.into_iter().map(|a| Published::Pix(a.event)).collect())
            .map_err(|r| r.reasons),
        end_to_end_id: e2e,
    }
}
