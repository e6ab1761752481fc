//! What every fuzz target checks: decoding any bytes in a format never panics, and every verdict
//! keeps its contract (a rejection carries at least one reason; an item's slice fits the body).
//! Each framing the format accepts over HTTP is tried (JSON when it is not served over HTTP).

use pix_domain::formats::{DecodeContext, Format, Framing, ItemBytes};
use pix_domain::validate::CheckDigitPolicy;

/// Decodes `data` in `format` under each of its framings and asserts the contract.
pub fn check(format: Format, data: &[u8]) {
    let ctx = DecodeContext {
        own_ispbs: ["99999010", "00000000", "87654321"].iter().filter_map(|s| s.parse().ok()).collect(),
        tax_id_check_digits: CheckDigitPolicy::Warn,
        unknown_fields: pix_domain::validate::UnknownFields::Flag,
        ingested_at: chrono::DateTime::UNIX_EPOCH,
        source_id: "fuzz".into(),
    };
    let mut framings: Vec<Framing> = format.wire().media_types().iter().map(|m| m.framing).collect();
    framings.dedup();
    if framings.is_empty() {
        framings.push(Framing::Json);
    }
    for framing in framings {
        match format.decode(data, framing, &ctx) {
            Err(reasons) => assert!(!reasons.is_empty()),
            Ok(items) => {
                for item in items {
                    if let ItemBytes::Slice(r) = &item.raw {
                        assert!(r.end <= data.len() && r.start <= r.end);
                    }
                    match &item.verdict {
                        Err(reasons) => assert!(!reasons.is_empty()),
                        // Every record can be written to Kafka.
                        Ok(records) => assert!(records.iter().all(|r| !r.to_json().is_empty())),
                    }
                }
            }
        }
    }
}
