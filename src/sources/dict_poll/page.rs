//! One DICT list page (`ListInfractionReportsResponse` / `ListRefundsResponse`) as pipeline
//! inputs: decoded by the `dict_xml` format (one input per report; a bad report is one rejected
//! input, its siblings are published), plus what the poller needs to move on: `HasMoreElements`
//! and the newest `LastModified` among the reports published.

use chrono::{DateTime, Utc};
use pix_domain::formats::{Format, Framing};

use crate::sources::ValidationSettings;
use crate::sources::decoding::decode_body;
use crate::sources::pipeline::ItemInput;

/// `HasMoreElements` of a list response (false when absent or not `true`).
pub fn has_more(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let Some(start) = text.find("<HasMoreElements>") else { return false };
    let rest = &text[start + "<HasMoreElements>".len()..];
    rest.split("</HasMoreElements>").next().is_some_and(|v| v.trim() == "true")
}

/// The page's inputs (a page that is not a DICT document is one rejected input, its bytes whole).
pub fn decode(body: &[u8], settings: &ValidationSettings, source_id: &str) -> Vec<ItemInput> {
    match decode_body(Format::DictXml, Framing::Json, body, settings, source_id, Utc::now(), None) {
        Ok(items) => items,
        Err(verdict) => vec![ItemInput { index: 0, bytes: body.to_vec(), verdict: Err(verdict), end_to_end_id: None }],
    }
}

/// The newest `LastModified` of the reports in `inputs`.
pub fn newest(inputs: &[ItemInput]) -> Option<DateTime<Utc>> {
    inputs
        .iter()
        .filter_map(|i| i.verdict.as_ref().ok())
        .flatten()
        .filter_map(|p| p.as_fraud_report()?.last_modified.as_ref().map(|t| t.as_utc()))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_more_elements_is_read() {
        assert!(has_more(b"<L><HasMoreElements> true </HasMoreElements></L>"));
        assert!(!has_more(b"<L><HasMoreElements>false</HasMoreElements></L>"));
        assert!(!has_more(b"<L></L>"));
    }

    #[test]
    fn the_real_list_example_gives_its_report_and_its_last_modified() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/pix-domain/tests/data/bcb-dict-api/infractions/ListInfractionReportsResponse.xml"
        );
        let body = std::fs::read(path).unwrap();
        let settings = ValidationSettings {
            own_ispbs: vec!["99999010".parse().unwrap()],
            check_digits: Default::default(),
            unknown_fields: Default::default(),
        };
        let inputs = decode(&body, &settings, "d");
        assert_eq!(inputs.len(), 1);
        assert!(has_more(&body));
        assert_eq!(newest(&inputs), Some("2020-01-17T10:00:00Z".parse().unwrap()));
    }
}
