//! From bytes in a wire format to pipeline inputs: the domain decoders (`pix_domain::formats`) run
//! the one shared validator; this turns their verdicts into `ItemInput`s with the bytes a dead
//! letter must carry and the stage each reason's code names.

use chrono::{DateTime, Utc};
use pix_domain::Reason;
use pix_domain::formats::{DecodeContext, Format, Framing};

use crate::dead_letter::{DlqReason, Stage};
use crate::sources::ValidationSettings;
use crate::sources::pipeline::ItemInput;

/// Reasons as published in dead letters.
pub fn dlq_reasons(reasons: &[Reason]) -> Vec<DlqReason> {
    reasons
        .iter()
        .map(|r| DlqReason { code: r.code.as_str().into(), path: r.path.clone(), detail: r.detail.clone() })
        .collect()
}

/// A rejection's stage and its reasons as published.
fn refused(reasons: &[Reason]) -> (Stage, Vec<DlqReason>) {
    (pix_domain::Stage::of(reasons).into(), dlq_reasons(reasons))
}

/// Decodes a whole body. `Err` = the envelope is unusable (not JSON/XML, DOCTYPE, unknown
/// namespace, count mismatch...): the caller answers 400 and dead-letters the whole body.
/// Every item's `index` is its index in the body unless `index_override` is set (the file source
/// numbers items by line, so a retry maps back to lines).
pub fn decode_body(
    format: Format,
    framing: Framing,
    body: &[u8],
    settings: &ValidationSettings,
    source_id: &str,
    received_at: DateTime<Utc>,
    index_override: Option<usize>,
) -> Result<Vec<ItemInput>, (Stage, Vec<DlqReason>)> {
    let ctx = DecodeContext {
        own_ispbs: settings.own_ispbs.clone(),
        tax_id_check_digits: settings.check_digits,
        unknown_fields: settings.unknown_fields,
        ingested_at: received_at,
        source_id: source_id.to_owned(),
    };
    let items = format.decode(body, framing, &ctx).map_err(|r| refused(&r))?;
    Ok(items
        .into_iter()
        .map(|item| ItemInput {
            index: index_override.unwrap_or(item.index),
            bytes: item.raw.of(body).to_vec(),
            verdict: item.verdict.map_err(|r| refused(&r)),
            end_to_end_id: item.end_to_end_id,
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
    match decode_body(format, Framing::Json, line, settings, source_id, received_at, Some(line_index)) {
        Ok(items) => items,
        Err(verdict) => {
            vec![ItemInput { index: line_index, bytes: line.to_vec(), verdict: Err(verdict), end_to_end_id: None }]
        }
    }
}
