//! From bytes in a wire format to pipeline inputs: the domain decoders (canonical JSON, BCB API Pix
//! webhook, ISO 20022 SPI XML, log lines) run the one shared validator; this turns their verdicts
//! into `ItemInput`s with the bytes a dead letter must carry.

use chrono::{DateTime, Utc};
use pix_domain::decode::BodyFormat;
use pix_domain::formats::{self, DecodeContext, Format};
use pix_domain::validate::Reason;

use crate::dead_letter::{DlqReason, Stage};
use crate::sources::ValidationSettings;
use crate::sources::pipeline::ItemInput;

/// Reasons as published in dead letters.
pub fn dlq_reasons(reasons: Vec<Reason>) -> Vec<DlqReason> {
    reasons.into_iter().map(|r| DlqReason { code: r.code.as_str().into(), path: r.path, detail: r.detail }).collect()
}

/// Items that never became an event failed decoding; the rest failed a rule.
fn stage_of(reasons: &[DlqReason]) -> Stage {
    let decode = reasons
        .iter()
        .all(|r| r.code.starts_with("payload.") || r.code.starts_with("xml.") || r.code.starts_with("batch."));
    if decode { Stage::Decode } else { Stage::Validate }
}

/// Decodes a whole body. `Err` = the envelope is unusable (not JSON/XML, DOCTYPE, unknown
/// namespace, count mismatch...): the caller answers 400 and dead-letters the whole body.
/// Every item's `index` is `index_base + its index in the body` unless `index_override` is set
/// (the file source numbers items by line, so a retry maps back to lines).
pub fn decode_body(
    format: Format,
    body_format: BodyFormat,
    body: &[u8],
    settings: &ValidationSettings,
    source_id: &str,
    received_at: DateTime<Utc>,
    index_override: Option<usize>,
) -> Result<Vec<ItemInput>, Vec<DlqReason>> {
    let ctx = DecodeContext {
        own_ispbs: settings.own_ispbs.clone(),
        tax_id_check_digits: settings.check_digits,
        ingested_at: received_at,
        source_id: source_id.to_owned(),
    };
    let items = match format {
        Format::Canonical => formats::decode_canonical(body, body_format, &ctx),
        other => formats::decode(other, body, &ctx),
    }
    .map_err(dlq_reasons)?;
    Ok(items
        .into_iter()
        .map(|item| {
            let verdict = item.verdict.map_err(|reasons| {
                let reasons = dlq_reasons(reasons);
                (stage_of(&reasons), reasons)
            });
            ItemInput {
                index: index_override.unwrap_or(item.index),
                bytes: item.raw.of(body).to_vec(),
                verdict,
                end_to_end_id: item.end_to_end_id,
            }
        })
        .collect())
}

/// One line of a file: like `decode_body`, but an unusable envelope is a rejected item (the line),
/// not an error, so its siblings carry on.
pub fn decode_line(
    format: Format,
    line_index: usize,
    line: &[u8],
    settings: &ValidationSettings,
    source_id: &str,
    received_at: DateTime<Utc>,
) -> Vec<ItemInput> {
    match decode_body(format, BodyFormat::Json, line, settings, source_id, received_at, Some(line_index)) {
        Ok(items) => items,
        Err(reasons) => vec![ItemInput {
            index: line_index,
            bytes: line.to_vec(),
            verdict: Err((stage_of(&reasons), reasons)),
            end_to_end_id: None,
        }],
    }
}
