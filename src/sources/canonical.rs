//! Canonical JSON items (one event per JSON object) through the shared validator, as
//! pipeline inputs. Used by every source whose format is `canonical`.

use chrono::{DateTime, Utc};
use pix_domain::validate::{ValidationContext, validate_canonical};

use crate::dead_letter::{DlqReason, Stage};
use crate::sources::ValidationSettings;
use crate::sources::pipeline::ItemInput;

/// Validates one canonical item and turns the verdict into a pipeline input.
pub fn item_input(
    index: usize,
    bytes: &[u8],
    settings: &ValidationSettings,
    source_id: &str,
    received_at: DateTime<Utc>,
) -> ItemInput {
    let ctx = ValidationContext {
        own_ispbs: settings.own_ispbs.clone(),
        tax_id_check_digits: settings.check_digits,
        ingested_at: received_at,
        source_id: source_id.to_owned(),
        source_kind: "canonical".into(),
        item_index: index,
    };
    let (verdict, end_to_end_id) = match validate_canonical(bytes, &ctx) {
        Ok(accepted) => {
            let e2e = accepted.first().map(|a| a.event.end_to_end_id.to_string());
            (Ok(accepted.into_iter().map(|a| a.event).collect()), e2e)
        }
        Err(rejection) => {
            let reasons: Vec<DlqReason> = rejection
                .reasons
                .into_iter()
                .map(|r| DlqReason { code: r.code.as_str().into(), path: r.path, detail: r.detail })
                .collect();
            // Bytes that never became an event failed decoding; the rest failed a rule.
            let stage =
                if reasons.iter().all(|r| r.code.starts_with("payload.")) { Stage::Decode } else { Stage::Validate };
            (Err((stage, reasons)), claimed_e2e(bytes))
        }
    };
    ItemInput { index, bytes: bytes.to_vec(), verdict, end_to_end_id }
}

/// The endToEndId a rejected item claims, for reports: only a short ASCII-alphanumeric value (an
/// id, never PII) is echoed back.
fn claimed_e2e(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let s = v.get("end_to_end_id")?.as_str()?;
    (s.len() <= 40 && s.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| s.to_owned())
}
