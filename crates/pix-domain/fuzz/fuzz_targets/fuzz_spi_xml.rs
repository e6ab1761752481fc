//! Fuzz target: `pix_domain::formats::decode(Format::SpiXml, ..)` must never panic, and every
//! verdict must keep its contract (rejections carry at least one reason; a slice fits the body).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pix_domain::formats::{DecodeContext, Format, decode};
use pix_domain::validate::CheckDigitPolicy;

fuzz_target!(|data: &[u8]| {
    let ctx = DecodeContext {
        own_ispbs: ["99999010", "00000000", "87654321"].iter().filter_map(|s| s.parse().ok()).collect(),
        tax_id_check_digits: CheckDigitPolicy::Warn,
        ingested_at: chrono::DateTime::UNIX_EPOCH,
        source_id: "fuzz".into(),
    };
    match decode(Format::SpiXml, data, &ctx) {
        Err(reasons) => assert!(!reasons.is_empty()),
        Ok(items) => {
            for item in items {
                if let pix_domain::formats::ItemBytes::Slice(r) = &item.raw {
                    assert!(r.end <= data.len() && r.start <= r.end);
                }
                if let Err(reasons) = &item.verdict {
                    assert!(!reasons.is_empty());
                }
            }
        }
    }
});
