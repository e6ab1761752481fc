//! The pieces the pull sources (`api_pix_poll`, and the pollers after it) share, so each poller
//! owns only what its API means (its cursor, its paging, how a page splits into items):
//! - `client`: one rustls client (mutual TLS) with an OAuth2 client-credentials token cached and
//!   renewed, one bounded GET per attempt, and what the answer means (`Attempt`: a page, retry
//!   after `Retry-After`, or a refusal);
//! - `state`: the durable state file (a poller's own cursor type plus the recently published ids
//!   that drop what an overlap returns again), written atomically.

pub mod client;
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
