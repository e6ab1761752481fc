//! Tests of the wire-format decoders against the real public samples in `crates/pix-domain/tests/data/`
//! (provenance in its README) and hand-made edge cases. One file per format.

mod bcb_webhook;
mod dict;
mod interface;
mod log_line;
mod spi;

use chrono::{TimeZone, Utc};

use super::{DecodeContext, DecodedItem, Format, decode};
use crate::validate::CheckDigitPolicy;

/// Our ISPBs in these tests: the SPI catalog's addressee, the scenarios' sender, the pacs.004
/// scenario's sender, and the one the canonical validator tests use.
pub(crate) const OWN: [&str; 4] = ["99999010", "00000000", "39664698", "87654321"];

pub(crate) fn ctx_with(own: &[&str], policy: CheckDigitPolicy) -> DecodeContext {
    DecodeContext {
        own_ispbs: own.iter().map(|s| s.parse().unwrap()).collect(),
        tax_id_check_digits: policy,
        unknown_fields: crate::validate::UnknownFields::Reject,
        ingested_at: Utc.with_ymd_and_hms(2020, 9, 9, 20, 20, 0).unwrap(),
        source_id: "test-source".into(),
    }
}

pub(crate) fn ctx() -> DecodeContext {
    ctx_with(&OWN, CheckDigitPolicy::Strict)
}

pub(crate) use crate::SAMPLES;

pub(crate) fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A compact, comparable view of one item: `Ok([(category, direction, e2e, return_id, flags)])`
/// or `Err([codes])`. Every accepted event is also checked against the JSON Schema.
pub(crate) type View = Result<Vec<(String, String, String, Option<String>, Vec<String>)>, Vec<String>>;

/// The `i`-th canonical event of an accepted item (panics otherwise: a test helper).
pub(crate) fn pix(item: &DecodedItem, i: usize) -> &crate::PixEvent {
    item.verdict
        .as_ref()
        .ok()
        .and_then(|v| v.get(i))
        .and_then(|p| p.as_pix())
        .unwrap_or_else(|| panic!("item {}: no event {i}", item.index))
}

pub(crate) fn view(item: &DecodedItem) -> View {
    match &item.verdict {
        Ok(events) => Ok(events
            .iter()
            .map(|e| {
                let e = e.as_pix().unwrap_or_else(|| panic!("item {} is not a canonical event", item.index));
                crate::event::assert_valid(e);
                (
                    e.category.to_string(),
                    e.direction.to_string(),
                    e.end_to_end_id.as_str().to_owned(),
                    e.return_id.as_ref().map(|r| r.as_str().to_owned()),
                    e.flags.iter().map(|f| f.as_str().to_owned()).collect(),
                )
            })
            .collect()),
        Err(reasons) => Err(reasons.iter().map(|r| r.code.as_str().to_owned()).collect()),
    }
}

pub(crate) fn codes(reasons: &[crate::reason::Reason]) -> Vec<&'static str> {
    reasons.iter().map(|r| r.code.as_str()).collect()
}

pub(crate) fn run(format: Format, body: &[u8]) -> Result<Vec<DecodedItem>, Vec<crate::reason::Reason>> {
    decode(format, body, &ctx())
}

pub(crate) fn ok(category: &str, direction: &str, e2e: &str, rid: Option<&str>, flags: &[&str]) -> View {
    Ok(vec![(
        category.into(),
        direction.into(),
        e2e.into(),
        rid.map(Into::into),
        flags.iter().map(|s| (*s).to_owned()).collect(),
    )])
}

pub(crate) fn err(codes: &[&str]) -> View {
    Err(codes.iter().map(|s| (*s).to_owned()).collect())
}

#[test]
fn canonical_through_formats_equals_the_service_path() {
    let body = br#"[{"schema_version":"1","event_type":"TRANSFER","end_to_end_id":"E87654321202009091221dfghi123456",
        "amount":"1.00","event_time":"2020-09-09T12:22:00Z","status":"PENDING","payee":{"ispb":"12345678"}}, 42]"#;
    let items = run(Format::Canonical, body).unwrap();
    assert_eq!(view(&items[0]), ok("payment", "OUTBOUND", "E87654321202009091221dfghi123456", None, &[]));
    assert_eq!(view(&items[1]), err(&["payload.not_object"]));
    assert_eq!(items[1].raw.of(body), b"42");
    assert_eq!(items[0].end_to_end_id.as_deref(), Some("E87654321202009091221dfghi123456"));
    assert_eq!(codes(&run(Format::Canonical, b"<xml/>").unwrap_err()), ["payload.unparseable"]);
    let nd = super::decode_canonical(b"{}\n\n{\"a\":1}", crate::decode::BodyFormat::Ndjson, &ctx()).unwrap();
    assert_eq!(nd.len(), 2);
    assert_eq!(nd[1].raw, super::ItemBytes::Slice(4..11));
}

#[test]
fn format_names_in_config() {
    for (f, name) in [
        (Format::Canonical, "canonical"),
        (Format::BcbWebhook, "bcb_webhook"),
        (Format::SpiXml, "spi_xml"),
        (Format::LogLine, "log_line"),
    ] {
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{name}\""));
    }
}
