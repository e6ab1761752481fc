//! The extension point itself: [`Format::ALL`] is complete, every config name round-trips through
//! serde with [`Format::name`], and each format states its media types and line orientation.

use super::{codes, ctx, ok, view};
use crate::formats::{Format, Framing, ItemBytes, MediaType, decode};

/// Adding a variant breaks this match (no wildcard), which sends the author to the list below.
fn position(f: Format) -> usize {
    match f {
        Format::Canonical => 0,
        Format::BcbWebhook => 1,
        Format::SpiXml => 2,
        Format::LogLine => 3,
        Format::DictXml => 4,
    }
}

const EVERY: [Format; 5] = [Format::Canonical, Format::BcbWebhook, Format::SpiXml, Format::LogLine, Format::DictXml];

#[test]
fn all_is_complete_and_in_order() {
    for (i, f) in EVERY.iter().enumerate() {
        assert_eq!(position(*f), i, "{f:?}");
    }
    assert_eq!(Format::ALL, EVERY);
}

#[test]
fn every_name_round_trips_through_serde() {
    let mut names = Vec::new();
    for &f in Format::ALL {
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, format!("\"{}\"", f.name()), "{f:?}");
        assert_eq!(serde_json::from_str::<Format>(&json).unwrap(), f);
        assert_eq!(f.to_string(), f.name());
        assert!(f.name().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", f.name());
        names.push(f.name());
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Format::ALL.len(), "two formats share a name");
    assert!(serde_json::from_str::<Format>("\"Canonical\"").is_err(), "only the one spelling");
    assert!(serde_json::from_str::<Format>("\"spi-xml\"").is_err(), "only the one spelling");
}

fn types(f: Format) -> Vec<(&'static str, &'static str, Framing)> {
    f.wire().media_types().iter().map(|m: &MediaType| (m.essence, m.canonical, m.framing)).collect()
}

#[test]
fn media_types_and_line_orientation() {
    use Framing::{Json, Ndjson, Xml};
    let nd = "application/x-ndjson";
    assert_eq!(
        types(Format::Canonical),
        [
            ("application/json", "application/json", Json),
            (nd, nd, Ndjson),
            ("application/ndjson", nd, Ndjson),
            ("application/jsonl", nd, Ndjson)
        ]
    );
    assert_eq!(types(Format::BcbWebhook), [("application/json", "application/json", Json)]);
    assert_eq!(
        types(Format::SpiXml),
        [("application/xml", "application/xml", Xml), ("text/xml", "application/xml", Xml)]
    );
    assert_eq!(types(Format::LogLine), []);
    assert_eq!(types(Format::DictXml), types(Format::SpiXml));
    let lines: Vec<Format> = Format::ALL.iter().copied().filter(|f| f.wire().line_oriented()).collect();
    assert_eq!(lines, [Format::Canonical, Format::LogLine, Format::DictXml]);
    for &f in Format::ALL {
        let essences: Vec<_> = types(f).iter().map(|t| t.0).collect();
        assert!(essences.iter().all(|e| *e == e.to_ascii_lowercase() && !e.contains(';')), "{f:?}");
    }
}

const ITEM: &str = r#"{"schema_version":"1","event_type":"TRANSFER","end_to_end_id":"E87654321202009091221dfghi123456",
    "amount":"1.00","event_time":"2020-09-09T12:22:00Z","status":"PENDING","payee":{"ispb":"12345678"}}"#;

#[test]
fn framing_reaches_the_canonical_decoder() {
    let line = ITEM.replace('\n', "");
    let body = format!("{line}\n\n{line}\n");
    let nd = Format::Canonical.decode(body.as_bytes(), Framing::Ndjson, &ctx()).unwrap();
    assert_eq!(nd.len(), 2);
    let want = ok("payment", "OUTBOUND", "E87654321202009091221dfghi123456", None, &[]);
    assert!(nd.iter().all(|i| view(i) == want));
    assert_eq!(nd[1].raw, ItemBytes::Slice(line.len() + 2..2 * line.len() + 2));
    // The same body as one JSON document is not JSON.
    let whole = Format::Canonical.decode(body.as_bytes(), Framing::Json, &ctx()).unwrap_err();
    assert_eq!(codes(&whole), ["payload.unparseable"]);
    let xml = Format::Canonical.decode(line.as_bytes(), Framing::Xml, &ctx()).unwrap_err();
    assert_eq!(codes(&xml), ["payload.unparseable"]);
}

#[test]
fn single_framing_formats_ignore_the_framing_and_the_old_entry_point_agrees() {
    let bodies: [(Format, Vec<u8>); 4] = [
        (Format::Canonical, format!("[{ITEM}, 42]").into_bytes()),
        (Format::BcbWebhook, super::sample("bcb-api-pix/derived/webhookPixBody.resolved.json")),
        (Format::SpiXml, super::sample("bcb-spi-catalog-5.13.1/pacs.008_END_10_msg.xml")),
        (Format::LogLine, format!("2026-11-25T14:30:05Z INFO pix: {}", ITEM.replace('\n', "")).into_bytes()),
    ];
    for (f, body) in &bodies {
        let old = decode(*f, body, &ctx());
        let first = f.wire().media_types().first().map_or(Framing::Json, |m| m.framing);
        assert_eq!(f.decode(body, first, &ctx()), old, "{f:?}");
        if *f != Format::Canonical {
            for framing in [Framing::Json, Framing::Ndjson, Framing::Xml] {
                assert_eq!(f.decode(body, framing, &ctx()), old, "{f:?} {framing:?}");
            }
        }
        assert!(old.is_ok_and(|items| !items.is_empty()), "{f:?}");
    }
}
