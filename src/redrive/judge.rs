//! The verdict of today's rules on a dead letter: its original bytes decoded and validated again
//! with the current config of the source named in its headers (a source-stage dead letter), or
//! read back as the canonical record a sink could not take (a sink-stage one).

use pix_domain::formats::{Format, Framing};
use pix_domain::{FraudReport, PixEvent, Published};

use super::letter::Letter;
use crate::config::Config;
use crate::dead_letter::DlqReason;
use crate::sources::ValidationSettings;
use crate::sources::decoding::decode_body;

/// What a redrive does with a dead letter.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Valid now: publish these records (one item yields two events for an intra-PSP transfer).
    Valid(Vec<Published>),
    /// Still refused, for these reasons: it stays where it is.
    Invalid(Vec<DlqReason>),
    /// Not something a redrive can take (why, a stable code): it stays where it is.
    Skip(&'static str),
}

/// Judges `letter` with `config` (its sources, `pix:` and `formats:`).
pub(crate) fn judge(letter: &Letter, config: &Config, settings: &ValidationSettings) -> Verdict {
    if letter.truncated {
        return Verdict::Skip("truncated");
    }
    match letter.stage.as_deref() {
        Some("sink_decode" | "sink_write") => canonical_record(&letter.payload),
        Some("decode" | "validate" | "produce") => match config.sources.iter().find(|s| s.id() == letter.source) {
            Some(source) => decode_again(letter, source.format(), settings),
            None => Verdict::Skip("source_unknown"),
        },
        _ => Verdict::Skip("not_a_dead_letter"),
    }
}

/// A sink-stage dead letter holds the record as the router published it.
fn canonical_record(payload: &[u8]) -> Verdict {
    if let Ok(e) = serde_json::from_slice::<PixEvent>(payload) {
        return Verdict::Valid(vec![Published::Pix(e)]);
    }
    match serde_json::from_slice::<FraudReport>(payload) {
        Ok(r) => Verdict::Valid(vec![Published::FraudReport(r)]),
        Err(e) => Verdict::Invalid(vec![DlqReason {
            code: "redrive.not_a_record".into(),
            path: String::new(),
            // serde's message names the position and the expected type, not the value.
            detail: format!("not a canonical event or fraud report: line {} column {}", e.line(), e.column()),
        }]),
    }
}

/// A source-stage dead letter: decoded in `format` as the source would today. A dead letter of
/// one item of a larger body (an SPI message or webhook, whose dead letters carry the whole body)
/// takes only that item; one of a whole body (an unusable envelope) takes every item, and is valid
/// only when they all are.
fn decode_again(letter: &Letter, format: Format, settings: &ValidationSettings) -> Verdict {
    let types = format.wire().media_types();
    let framing = types
        .iter()
        .find(|m| m.canonical == letter.content_type || m.essence == letter.content_type)
        .or(types.first())
        .map_or(Framing::Json, |m| m.framing);
    // A file source's line is one document whatever the file's media type.
    let framing = if letter.item_index.is_some() && framing == Framing::Ndjson { Framing::Json } else { framing };
    let items = match decode_body(format, framing, &letter.payload, settings, &letter.source, letter.received_at, None)
    {
        Ok(items) => items,
        Err((_, reasons)) => return Verdict::Invalid(reasons),
    };
    let several = items.len() > 1;
    let mut records = Vec::new();
    for item in items {
        if several && letter.item_index.is_some_and(|i| i != item.index) {
            continue;
        }
        match item.verdict {
            Ok(r) => records.extend(r),
            Err((_, reasons)) => return Verdict::Invalid(reasons),
        }
    }
    if records.is_empty() { Verdict::Skip("no_item") } else { Verdict::Valid(records) }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(policy: &str) -> Config {
        let text = format!(
            "kafka: {{bootstrap_servers: embedded}}\npix: {{own_ispbs: ['99999010'], tax_id_check_digits: {policy}}}\n\
             sources: [{{id: api, type: http, listen: '127.0.0.1:0'}}]\n"
        );
        crate::config::load_str("test.yaml", &text, &HashMap::<String, String>::new()).unwrap()
    }

    fn letter(stage: &str, source: &str, payload: &[u8]) -> Letter {
        Letter {
            partition: 0,
            offset: 7,
            stage: Some(stage.into()),
            reasons: serde_json::Value::Null,
            codes: vec!["tax_id.check_digit".into()],
            source: source.into(),
            content_type: "application/json".into(),
            received_at: chrono::Utc::now(),
            written_at: None,
            item_index: Some(1),
            truncated: false,
            traceparent: None,
            payload: payload.to_vec(),
        }
    }

    const BAD_CPF: &str = r#"{"schema_version": "1", "event_type": "TRANSFER", "end_to_end_id": "E9999901020261202150500000000001",
        "amount": "1.00", "event_time": "2026-12-02T15:05:00Z", "status": "PENDING",
        "payer": {"ispb": "99999010", "tax_id": "52998224724"}, "payee": {"ispb": "12345678"}}"#;

    fn judged(policy: &str, l: &Letter) -> Verdict {
        let c = config(policy);
        let settings = ValidationSettings::from_config(&c.pix, &c.formats).unwrap();
        judge(l, &c, &settings)
    }

    #[test]
    fn a_source_stage_dead_letter_is_judged_by_todays_config_of_its_source() {
        let l = letter("validate", "api", BAD_CPF.as_bytes());
        assert!(matches!(judged("strict", &l), Verdict::Invalid(r) if r[0].code == "tax_id.check_digit"));
        let Verdict::Valid(records) = judged("warn", &l) else { panic!("valid under warn") };
        assert_eq!(records[0].event_id(), "E9999901020261202150500000000001:TRANSFER:PENDING");
        assert!(matches!(judged("warn", &letter("validate", "gone", b"{}")), Verdict::Skip("source_unknown")));
        let cut = Letter { truncated: true, ..l };
        assert!(matches!(judged("warn", &cut), Verdict::Skip("truncated")));
    }

    #[test]
    fn a_sink_stage_dead_letter_is_the_record_as_published() {
        let Verdict::Valid(records) = judged("warn", &letter("validate", "api", BAD_CPF.as_bytes())) else {
            panic!("valid")
        };
        let record = records[0].to_json();
        let Verdict::Valid(again) = judged("strict", &letter("sink_write", "lake", &record)) else { panic!("valid") };
        assert_eq!(again[0].to_json(), record);
        assert!(matches!(judged("strict", &letter("sink_decode", "lake", b"[1]")), Verdict::Invalid(_)));
        assert!(matches!(judged("strict", &letter("elsewhere", "lake", b"{}")), Verdict::Skip("not_a_dead_letter")));
    }
}
