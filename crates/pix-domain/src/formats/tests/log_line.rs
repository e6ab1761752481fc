//! Log-line decoder: prefixes, JSON vs XML detection, and lines with neither.

use super::*;
use crate::formats::ItemBytes;

const EVENT: &str = r#"{"schema_version":"1","event_type":"TRANSFER","end_to_end_id":"E87654321202009091221dfghi123456","amount":"1.00","event_time":"2020-09-09T12:22:00Z","status":"PENDING","payee":{"ispb":"12345678"}}"#;

#[test]
fn json_after_a_prefix() {
    for prefix in ["", "2026-11-25T14:30:05.120Z INFO pix_out: ", "[worker-3] WARN "] {
        let line = format!("{prefix}{EVENT}\r\n");
        let got = run(Format::LogLine, line.as_bytes()).unwrap();
        assert_eq!(view(&got[0]), ok("payment", "OUTBOUND", "E87654321202009091221dfghi123456", None, &[]), "{prefix}");
        assert_eq!(got[0].raw, ItemBytes::Slice(prefix.len()..prefix.len() + EVENT.len()));
        assert_eq!(got[0].raw.of(line.as_bytes()), EVENT.as_bytes());
        assert_eq!(pix(&got[0], 0).source.kind, "log_line");
    }
    // A broken JSON payload is one rejected item (the line), not an envelope error.
    let got = run(Format::LogLine, b"INFO {\"schema_version\": ").unwrap();
    assert_eq!(view(&got[0]), err(&["payload.unparseable"]));
}

#[test]
fn spi_xml_after_a_prefix() {
    let xml = String::from_utf8(sample("bcb-spi-catalog-5.13.1/pacs.002_ERRO_1_msg.xml")).unwrap().replace('\n', "");
    for prefix in ["", "2026-11-25 14:30:05 INFO spi-in ", "in: "] {
        let line = format!("{prefix}{xml}\n");
        let got = run(Format::LogLine, line.as_bytes()).unwrap();
        let want = ok(
            "payment",
            "OUTBOUND",
            "E9999901012341234123412345678900",
            None,
            &["E2E_TIMESTAMP_INVALID_DATE", "SIGNATURE_ABSENT"],
        );
        assert_eq!(view(&got[0]), want, "{prefix}");
        assert_eq!(got[0].raw, ItemBytes::Whole);
    }
    // `<Envelope` without a declaration also counts; batch indexes are the SPI transaction indexes.
    let batch = String::from_utf8(sample("bcb-spi-catalog-5.13.1/pacs.008_END_10_msg.xml")).unwrap();
    let env = &batch[batch.find("<Envelope").unwrap()..];
    let line = format!("2020-01-01 DEBUG {}", env.replace(['\n', '\r'], ""));
    let got = decode(Format::LogLine, line.as_bytes(), &ctx_with(&OWN, CheckDigitPolicy::Warn)).unwrap();
    assert_eq!(got.iter().map(|i| i.index).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    // An envelope-level problem refuses the line.
    let bad = format!("x {}", env.replace("<NbOfTxs>10<", "<NbOfTxs>9<").replace(['\n', '\r'], ""));
    assert_eq!(codes(&run(Format::LogLine, bad.as_bytes()).unwrap_err()), ["batch.count_mismatch"]);
}

#[test]
fn lines_with_neither() {
    for line in [&b""[..], b"\n", b"2026-11-25 INFO nothing to see", b"<html>", b"\xff\xfe"] {
        assert_eq!(codes(&run(Format::LogLine, line).unwrap_err()), ["payload.unparseable"], "{line:?}");
    }
    // The first marker wins: JSON before XML is JSON.
    let got = run(Format::LogLine, format!("{EVENT} <Envelope/>").as_bytes()).unwrap();
    assert_eq!(view(&got[0]), err(&["payload.unparseable"]));
}
