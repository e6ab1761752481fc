//! Which dead letters a browse or a redrive is about: filters over the headers every dead letter
//! carries (reason, stage, source, time), a limit, and the consumer group that remembers how far
//! a redrive of this selection got.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dead_letter::Stage;

/// Most summaries one browse returns.
pub const MAX_LIST: usize = 1000;
/// Summaries of a browse without `limit`.
pub const DEFAULT_LIST: usize = 100;
/// Most dead letters one redrive run takes (a larger backlog takes several runs; each one goes on
/// where the last stopped).
pub const MAX_REDRIVE: usize = 100_000;
/// Dead letters of a redrive run without `limit`.
pub const DEFAULT_REDRIVE: usize = 10_000;

/// Every stage a dead letter may name (`pix-dlq-stage`).
pub const STAGES: [Stage; 5] = [Stage::Decode, Stage::Validate, Stage::Produce, Stage::SinkDecode, Stage::SinkWrite];

/// The filters of a browse (`GET /api/v1/dlq`, `pix-ingest dlq list`) or a redrive (`POST
/// /api/v1/dlq/redrive`, `pix-ingest dlq redrive`). Every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Any of the dead letter's reason codes (`pix-dlq-reasons`) is this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The stage that refused it: `decode`, `validate`, `produce`, `sink_decode`, `sink_write`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The source (or sink) id in `pix-source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Received at or after this instant (RFC 3339; `pix-received-at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Received before this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Browse: most summaries returned (default 100, at most 1000). Redrive: most dead letters
    /// taken by this run (default 10000, at most 100000); the next run goes on from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Redrive only: forget the progress of earlier runs of this selection and start again from
    /// the oldest dead letter it selects (what was published then is deduplicated by event id).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
}

/// A selection that cannot be served; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SelectionError {
    /// The filter.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// What a selection is for: the limits differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Browse summaries.
    List,
    /// Publish again.
    Redrive,
}

impl Selection {
    /// The limit in force, once `check` passed.
    pub fn limit_for(&self, purpose: Purpose) -> usize {
        let default = match purpose {
            Purpose::List => DEFAULT_LIST,
            Purpose::Redrive => DEFAULT_REDRIVE,
        };
        self.limit.unwrap_or(default)
    }

    /// Every problem of the selection for `purpose`.
    pub fn check(&self, purpose: Purpose) -> Result<(), SelectionError> {
        let bad = |field, message: String| Err(SelectionError { field, message });
        let max = match purpose {
            Purpose::List => MAX_LIST,
            Purpose::Redrive => MAX_REDRIVE,
        };
        if let Some(limit) = self.limit
            && !(1..=max).contains(&limit)
        {
            return bad("limit", format!("{limit} is out of range: 1 to {max}"));
        }
        if let Some(stage) = &self.stage
            && !STAGES.iter().any(|s| s.as_str() == stage)
        {
            let names: Vec<&str> = STAGES.iter().map(|s| s.as_str()).collect();
            return bad("stage", format!("unknown stage; expected one of {}", names.join(", ")));
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return bad("until", "must be later than `since`".into());
        }
        if self.restart && purpose == Purpose::List {
            return bad("restart", "applies to a redrive only".into());
        }
        Ok(())
    }

    /// Whether a dead letter with these headers is selected (the limit aside).
    pub(crate) fn matches(&self, stage: Option<&str>, reasons: &[String], source: &str, at: DateTime<Utc>) -> bool {
        self.stage.as_deref().is_none_or(|s| Some(s) == stage)
            && self.reason.as_ref().is_none_or(|r| reasons.iter().any(|x| x == r))
            && self.source.as_ref().is_none_or(|s| s == source)
            && self.since.is_none_or(|t| at >= t)
            && self.until.is_none_or(|t| at < t)
    }

    /// The consumer group that records how far the redrives of this selection of `topic` got:
    /// the same filters give the same group whatever the limit, so a run goes on where the last
    /// one stopped.
    pub fn group(&self, topic: &str) -> String {
        let filters = Selection { limit: None, restart: false, ..self.clone() };
        let text = format!("{topic}\n{}", serde_json::to_string(&filters).unwrap_or_default());
        let digest = hex::encode(Sha256::digest(text.as_bytes()));
        format!("pix-ingest.redrive.{}", &digest[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_stages_and_times_are_checked_per_purpose() {
        let s = |json: &str| serde_json::from_str::<Selection>(json).unwrap();
        assert!(s(r#"{"limit": 1000}"#).check(Purpose::List).is_ok());
        assert_eq!(s(r#"{"limit": 1001}"#).check(Purpose::List).unwrap_err().field, "limit");
        assert!(s(r#"{"limit": 1001}"#).check(Purpose::Redrive).is_ok());
        assert_eq!(s(r#"{"limit": 0}"#).check(Purpose::Redrive).unwrap_err().field, "limit");
        assert_eq!(s(r#"{"stage": "nope"}"#).check(Purpose::List).unwrap_err().field, "stage");
        let times = r#"{"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}"#;
        assert_eq!(s(times).check(Purpose::List).unwrap_err().field, "until");
        assert_eq!(s(r#"{"restart": true}"#).check(Purpose::List).unwrap_err().field, "restart");
        assert!(serde_json::from_str::<Selection>(r#"{"reasn": "x"}"#).is_err());
    }

    #[test]
    fn the_group_depends_on_the_filters_and_topic_only() {
        let a = Selection { reason: Some("tax_id.check_digit".into()), ..Selection::default() };
        let b = Selection { limit: Some(5), restart: true, ..a.clone() };
        assert_eq!(a.group("dlq"), b.group("dlq"));
        assert_ne!(a.group("dlq"), a.group("other.dlq"));
        assert_ne!(a.group("dlq"), Selection::default().group("dlq"));
        assert!(a.group("dlq").starts_with("pix-ingest.redrive."));
    }

    #[test]
    fn every_filter_must_match() {
        let at = "2026-01-01T12:00:00Z".parse().unwrap();
        let reasons = vec!["amount.invalid".to_owned()];
        let s = Selection {
            stage: Some("validate".into()),
            source: Some("api".into()),
            since: Some(at),
            ..Selection::default()
        };
        assert!(s.matches(Some("validate"), &reasons, "api", at));
        assert!(!s.matches(Some("decode"), &reasons, "api", at));
        assert!(!s.matches(Some("validate"), &reasons, "file", at));
        assert!(!s.matches(Some("validate"), &reasons, "api", at - chrono::Duration::seconds(1)));
        let r = Selection { reason: Some("amount.invalid".into()), ..Selection::default() };
        assert!(r.matches(None, &reasons, "x", at) && !r.matches(None, &[], "x", at));
    }
}
