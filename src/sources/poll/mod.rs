//! The pieces the pull sources (`api_pix_poll`, `dict_poll`) share, so each poller
//! owns only what its API means (its cursor, its paging, how a page splits into items):
//! - `client`: one rustls client (mutual TLS) with an OAuth2 client-credentials token cached and
//!   renewed, one bounded GET per attempt, and what the answer means (`Attempt`: a page, retry
//!   after `Retry-After`, or a refusal);
//! - `state`: the durable state file (a poller's own cursor type plus the recently published ids
//!   that drop what an overlap returns again), written atomically;
//! - `session`: the run-time half (the supervised task, a page fetched with retries, submissions,
//!   saving the state, the progress shown by the admin API).

pub mod client;
pub mod session;
pub mod state;

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::base::Secret;
use crate::tls::ClientTls;

/// Defaults of the fields every poller has (`#[serde(default = "...")]`).
pub mod defaults {
    use std::time::Duration;

    /// `poll_interval`.
    pub fn poll_interval() -> Duration {
        Duration::from_secs(60)
    }
    /// `timeout`.
    pub fn timeout() -> Duration {
        Duration::from_secs(30)
    }
    /// `backoff_initial`.
    pub fn backoff_initial() -> Duration {
        Duration::from_secs(1)
    }
    /// `backoff_max`.
    pub fn backoff_max() -> Duration {
        Duration::from_secs(60)
    }
    /// `max_retry_after`.
    pub fn max_retry_after() -> Duration {
        Duration::from_secs(600)
    }
    /// `token_renew_before`.
    pub fn renew_before() -> Duration {
        Duration::from_secs(60)
    }
    /// `max_page_bytes`.
    pub const fn max_page_bytes() -> usize {
        16 * 1024 * 1024
    }
    /// `remember_ids`.
    pub const fn remember() -> usize {
        20_000
    }
}

/// The field problems every poller shares: the two URLs, TLS files, the client id, the bounds.
pub fn client_problems(
    urls: [(&'static str, &str); 2],
    tls: Option<&ClientTls>,
    client_id: &Secret,
    max_page_bytes: usize,
    remember_ids: usize,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (field, url) in urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) || reqwest::Url::parse(url).is_err() {
            out.push((field, "expected an http:// or https:// URL".into()));
        }
    }
    if let Some(tls) = tls {
        out.extend(tls.problems());
    }
    if client_id.is_empty() {
        out.push(("client_id", "expected a client id".into()));
    }
    if max_page_bytes == 0 || remember_ids == 0 {
        out.push(("max_page_bytes", "expected positive numbers for max_page_bytes and remember_ids".into()));
    }
    out
}

/// `client_settings()` and `retry()` of a poller's config, from the fields every poller has
/// (`token_url`, `client_id`, `client_secret`, `scope`, `tls`, `timeout`, `token_renew_before`,
/// `max_page_bytes`, `backoff_initial`, `backoff_max`, `max_retry_after`).
macro_rules! poller_settings {
    ($config:ty) => {
        impl $config {
            /// What the shared poller client needs.
            pub fn client_settings(&self) -> $crate::sources::poll::client::ClientSettings {
                $crate::sources::poll::client::ClientSettings {
                    id: self.id.clone(),
                    token_url: self.token_url.clone(),
                    client_id: self.client_id.clone(),
                    client_secret: self.client_secret.clone(),
                    scope: self.scope.clone(),
                    tls: self.tls.clone(),
                    timeout: self.timeout,
                    token_renew_before: self.token_renew_before,
                    max_page_bytes: self.max_page_bytes,
                }
            }

            /// How a page that was not read is retried.
            pub fn retry(&self) -> $crate::sources::poll::session::Retry {
                $crate::sources::poll::session::Retry {
                    initial: self.backoff_initial,
                    max: self.backoff_max,
                    max_retry_after: self.max_retry_after,
                }
            }
        }
    };
}
pub(crate) use poller_settings;

/// Why a poller stopped (the supervisor restarts it with backoff).
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The state file cannot be read or written.
    #[error("cursor: {0}")]
    State(#[from] state::StateError),
    /// The HTTP client cannot be built (TLS files).
    #[error(transparent)]
    Client(#[from] client::ClientError),
    /// The API or the token endpoint refused in a way retrying does not fix.
    #[error("{0}")]
    Refused(String),
}

/// Exponential retry delays with jitter, without end.
pub fn backoff(min: Duration, max: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default().with_min_delay(min).with_max_delay(max).with_jitter().without_max_times().build()
}
