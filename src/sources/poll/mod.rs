//! The pieces the pull sources (`api_pix_poll`, and the pollers after it) share, so each poller
//! owns only what its API means (its cursor, its paging, how a page splits into items):
//! - `client`: one rustls client (mutual TLS) with an OAuth2 client-credentials token cached and
//!   renewed, one bounded GET per attempt, and what the answer means (`Attempt`: a page, retry
//!   after `Retry-After`, or a refusal);
//! - `state`: the durable state file (a poller's own cursor type plus the recently published ids
//!   that drop what an overlap returns again), written atomically.

pub mod client;
pub mod state;
