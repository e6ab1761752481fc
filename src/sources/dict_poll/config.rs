//! Config of the DICT poller (`type: dict_poll`): where the DICT API and its token endpoint are,
//! the participant whose reports are listed, the client credentials (secrets, from `${VAR}`),
//! mutual TLS, the page size (`Limit`), backoff and where the cursor is kept.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::base::Secret;
use crate::sources::poll::{client_problems, defaults};
use crate::tls::ClientTls;

/// `type: dict_poll` source.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DictPollConfig {
    /// Unique id (`[a-z0-9-]`).
    pub id: String,
    /// Base URL of the DICT API (the poller calls `GET {base_url}/infraction-reports` and
    /// `GET {base_url}/refunds`).
    pub base_url: String,
    /// OAuth2 token endpoint (client credentials grant).
    pub token_url: String,
    /// OAuth2 client id, from `${VAR}`.
    pub client_id: Secret,
    /// OAuth2 client secret, from `${VAR}`.
    pub client_secret: Secret,
    /// Scope asked for (space-separated); none when absent.
    #[serde(default)]
    pub scope: Option<String>,
    /// ISPB of the participant whose reports are listed (`Participant`, 8 digits).
    pub participant: String,
    /// Trusted CA and client certificate (the DICT requires mutual TLS).
    #[serde(default)]
    pub tls: Option<ClientTls>,
    /// Directory of the durable cursor (`<id>.cursor.json`, mode 0600).
    pub state_dir: PathBuf,
    /// `ModifiedAfter` of the first poll when there is no cursor yet (default: the first start).
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// `Limit`: reports per page.
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// How long to wait once both lists said `HasMoreElements` false.
    #[serde(default = "defaults::poll_interval", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Per-request timeout (token and pages).
    #[serde(default = "defaults::timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// First retry delay after a 5xx, a 429 without `Retry-After` or a connection failure.
    #[serde(default = "defaults::backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Largest computed retry delay.
    #[serde(default = "defaults::backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Longest `Retry-After` obeyed (a longer one is cut to this).
    #[serde(default = "defaults::max_retry_after", with = "humantime_serde")]
    pub max_retry_after: Duration,
    /// How early a token is renewed before it expires.
    #[serde(default = "defaults::renew_before", with = "humantime_serde")]
    pub token_renew_before: Duration,
    /// Largest page body read.
    #[serde(default = "defaults::max_page_bytes")]
    pub max_page_bytes: usize,
    /// Event ids remembered, in the cursor file, to drop what a page returns again (the reports
    /// modified at the cursor's instant).
    #[serde(default = "defaults::remember")]
    pub remember_ids: usize,
}

const fn default_limit() -> u32 {
    200
}

crate::sources::poll::poller_settings!(DictPollConfig);

impl DictPollConfig {
    /// Field problems, as (field, message).
    pub fn field_problems(&self) -> Vec<(&'static str, String)> {
        let urls = [("base_url", self.base_url.as_str()), ("token_url", self.token_url.as_str())];
        let mut out = client_problems(urls, self.tls.as_ref(), &self.client_id, self.max_page_bytes, self.remember_ids);
        if self.participant.len() != 8 || !self.participant.bytes().all(|b| b.is_ascii_digit()) {
            out.push(("participant", "expected an ISPB (8 digits)".into()));
        }
        if !(1..=1000).contains(&self.limit) {
            out.push(("limit", "expected 1 to 1000".into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::sources::{CheckContext, SourceConfig};

    fn problems(extra: &str) -> Vec<String> {
        let yaml = format!(
            "{{id: d, type: dict_poll, base_url: 'https://dict.example/api/v2', token_url: 'https://dict.example/t', \
             client_id: c, client_secret: s, state_dir: d{extra}}}"
        );
        let s: SourceConfig = serde_saphyr::from_str(&yaml).unwrap();
        let ctx = CheckContext { delivery_timeout: std::time::Duration::from_secs(5), max_record_bytes: 2 << 20 };
        s.kind().problems(&ctx).into_iter().map(|(f, m)| format!("{f}: {m}")).collect()
    }

    #[test]
    fn defaults_are_valid_and_bad_fields_are_named() {
        assert!(problems(", participant: '99999010'").is_empty());
        assert!(problems(", participant: '9999'").iter().any(|p| p.starts_with("participant:")));
        assert!(problems(", participant: '99999010', limit: 0").iter().any(|p| p.starts_with("limit:")));
    }
}
