//! Config of the API Pix poller (`type: api_pix_poll`): where the PSP's API and token endpoint
//! are, the client credentials (secrets, from `${VAR}`), mutual TLS, the moving window and its
//! overlap, paging, backoff and where the cursor is kept.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::base::Secret;
use crate::sources::poll::{client_problems, defaults};
use crate::tls::ClientTls;

/// `type: api_pix_poll` source.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiPixPollConfig {
    /// Unique id (`[a-z0-9-]`).
    pub id: String,
    /// Base URL of the PSP's API Pix (the poller calls `GET {base_url}/pix`).
    pub base_url: String,
    /// OAuth2 token endpoint (client credentials grant).
    pub token_url: String,
    /// OAuth2 client id, from `${VAR}`.
    pub client_id: Secret,
    /// OAuth2 client secret, from `${VAR}`.
    pub client_secret: Secret,
    /// Scope asked for (space-separated), e.g. `pix.read`; none when absent.
    #[serde(default)]
    pub scope: Option<String>,
    /// Trusted CA and client certificate (the API Pix requires mutual TLS).
    #[serde(default)]
    pub tls: Option<ClientTls>,
    /// Directory of the durable cursor (`<id>.cursor.json`, mode 0600).
    pub state_dir: PathBuf,
    /// Where the first window starts when there is no cursor yet (default: the first start).
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// Longest window asked for at once (`inicio` to `fim`).
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
    /// Each window starts this much before the end of the previous one (late-indexed Pix);
    /// what was already published is dropped by event id.
    #[serde(default = "default_overlap", with = "humantime_serde")]
    pub overlap: Duration,
    /// `paginacao.itensPorPagina`.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// How long to wait once caught up with the present.
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
    /// Event ids (and rejected items' digests) remembered, in the cursor file, to drop what an
    /// overlapping window returns again.
    #[serde(default = "defaults::remember")]
    pub remember_ids: usize,
}

fn default_window() -> Duration {
    Duration::from_secs(3600)
}
fn default_overlap() -> Duration {
    Duration::from_secs(300)
}
const fn default_page_size() -> u32 {
    100
}

crate::sources::poll::poller_settings!(ApiPixPollConfig);

impl ApiPixPollConfig {
    /// Field problems, as (field, message).
    pub fn field_problems(&self) -> Vec<(&'static str, String)> {
        let urls = [("base_url", self.base_url.as_str()), ("token_url", self.token_url.as_str())];
        let mut out = client_problems(urls, self.tls.as_ref(), &self.client_id, self.max_page_bytes, self.remember_ids);
        if self.window.is_zero() {
            out.push(("window", "expected a positive duration".into()));
        }
        if self.overlap >= self.window {
            out.push(("overlap", "expected less than `window`".into()));
        }
        if !(1..=1000).contains(&self.page_size) {
            out.push(("page_size", "expected 1 to 1000".into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::sources::{CheckContext, SourceConfig};

    fn problems(extra: &str) -> Vec<String> {
        let yaml = format!(
            "{{id: p, type: api_pix_poll, base_url: 'https://psp.example/api/v2', \
             client_id: c, client_secret: s, state_dir: d{}}}",
            if extra.contains("token_url") {
                extra.to_owned()
            } else {
                format!("{extra}, token_url: 'https://psp.example/t'")
            }
        );
        let s: SourceConfig = serde_saphyr::from_str(&yaml).unwrap();
        let ctx = CheckContext { delivery_timeout: std::time::Duration::from_secs(5), max_record_bytes: 2 << 20 };
        s.kind().problems(&ctx).into_iter().map(|(f, m)| format!("{f}: {m}")).collect()
    }

    #[test]
    fn defaults_are_valid_and_bad_fields_are_named() {
        assert!(problems("").is_empty(), "{:?}", problems(""));
        assert!(problems(", window: 5m, overlap: 5m").iter().any(|p| p.starts_with("overlap:")));
        assert!(problems(", page_size: 0").iter().any(|p| p.starts_with("page_size:")));
        assert!(problems(", token_url: 'ftp://x'").iter().any(|p| p.starts_with("token_url:")));
    }

    #[test]
    fn the_client_credentials_never_print() {
        let yaml = "{id: p, type: api_pix_poll, base_url: 'https://x/', token_url: 'https://x/t', \
                    client_id: the-id, client_secret: the-secret, state_dir: d}";
        let s: SourceConfig = serde_saphyr::from_str(yaml).unwrap();
        let shown = format!("{s:?} {}", serde_json::to_string(&s).unwrap());
        assert!(!shown.contains("the-secret") && !shown.contains("the-id"), "{shown}");
    }
}
