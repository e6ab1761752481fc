//! The API Pix poller's cursor (kept in the shared state file, `sources::poll::state`): the
//! window being read and its next page, or, between windows, up to where everything was
//! published.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The window being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// `inicio`.
    pub inicio: DateTime<Utc>,
    /// `fim`.
    pub fim: DateTime<Utc>,
    /// The next page to read (0-based, `paginacao.paginaAtual`).
    pub next_page: u32,
    /// The page count the last readable page announced.
    #[serde(default)]
    pub pages: Option<u32>,
    /// Pages in a row that were not a GET /pix answer (dead-lettered whole).
    #[serde(default)]
    pub unreadable: u32,
}

impl Window {
    /// A window from its first page.
    pub fn new(inicio: DateTime<Utc>, fim: DateTime<Utc>) -> Self {
        Self { inicio, fim, next_page: 0, pages: None, unreadable: 0 }
    }
}

/// Where the poller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Every Pix up to this instant was published (the end of the last finished window).
    pub done_until: DateTime<Utc>,
    /// The window in progress, if any.
    pub window: Option<Window>,
}
