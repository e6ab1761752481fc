//! The API Pix poller (`type: api_pix_poll`): a PSP reads the Pix it received from its own API
//! Pix, `GET {base_url}/pix?inicio=…&fim=…&paginacao.paginaAtual=N&paginacao.itensPorPagina=M`,
//! to reconcile what the webhook missed. It owns the moving window, the paging, the cursor and
//! the drop of what an overlapping window returns again; the HTTP side (OAuth2 client
//! credentials over mutual TLS, `Retry-After`) and the state file are the shared
//! `sources::poll` pieces, the split of a page into inputs for
//! the shared pipeline (`sources::pipeline`: validation, routing, dead letters) is `page`.
//!
//! Delivery: a page's records are submitted until every one is acknowledged by Kafka (accepted,
//! or durably dead-lettered); only then does the cursor (window + next page, and the recent ids)
//! move, durably (`sources::poll::state`). A crash re-reads at most the page in flight, and its records already
//! published are dropped by id. Windows overlap by `overlap` so a Pix the PSP indexed late is
//! still seen; its copies in the overlap are dropped the same way.

pub mod config;
mod cursor;
mod page;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

use self::config::ApiPixPollConfig;
use self::cursor::{Cursor, Window};
use self::page::Keyed;
use crate::lifecycle::task::{RunSignal, blocking, wait_while_paused};
use crate::lifecycle::{ChildGuard, Control, ProgressReporter};
use crate::sources::pipeline::{RecordStatus, submit};
use crate::sources::poll::client::Api;
use crate::sources::poll::session::{self, Session};
use crate::sources::poll::state::State;
use crate::sources::poll::{PollError, backoff};
use crate::sources::{CheckContext, SourceDeps, SourceKind};

/// Pages in a row that are not GET /pix answers before the source gives up (and is restarted).
const MAX_UNREADABLE: u32 = 3;

impl SourceKind for ApiPixPollConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn format(&self) -> pix_domain::formats::Format {
        pix_domain::formats::Format::BcbWebhook
    }
    fn problems(&self, _ctx: &CheckContext) -> Vec<(&'static str, String)> {
        self.field_problems()
    }
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> actix::Recipient<Control> {
        session::start(self.clone(), deps, guard, run)
    }
}

/// One poller's working state.
struct Poller {
    cfg: ApiPixPollConfig,
    s: Session,
    /// `{base_url}/pix`.
    url: String,
    state: State<Cursor>,
}

async fn run(
    cfg: ApiPixPollConfig,
    deps: SourceDeps,
    progress: ProgressReporter,
    mut stop: RunSignal,
) -> Result<(), PollError> {
    let start = cfg.start_at.unwrap_or_else(Utc::now);
    let (dir, id, remember) = (cfg.state_dir.clone(), cfg.id.clone(), cfg.remember_ids);
    let initial = Cursor { done_until: start, window: None };
    let state = blocking(move || State::load(&dir, &id, initial, remember)).await?;
    let api = Api::new(&cfg.client_settings())?;
    let s = Session::new(&cfg.id, deps, api, cfg.retry(), progress);
    let url = format!("{}/pix", cfg.base_url.trim_end_matches('/'));
    let mut p = Poller { cfg, s, url, state };
    p.s.report(&p.state);
    loop {
        if !wait_while_paused(&mut stop).await {
            return Ok(());
        }
        let window = match p.window() {
            Ok(w) => w,
            Err(wait) => {
                let _ = tokio::time::timeout(wait, stop.changed()).await;
                continue;
            }
        };
        let what = format!("GET /pix page {}", window.next_page);
        let query = query(&window, p.cfg.page_size);
        let Some(body) = p.s.fetch(&p.url, &query, &what, &p.state, &mut stop).await? else { return Ok(()) };
        match p.publish(&body, &stop).await? {
            Some(pages) => p.advance(window, pages).await?,
            None => return Ok(()),
        }
    }
}

impl Poller {
    /// The window to read now, or how long to wait for one: a new window starts `overlap`
    /// before the last one ended, and only once `poll_interval` passed since that end.
    fn window(&mut self) -> Result<Window, Duration> {
        if let Some(w) = &self.state.cursor.window {
            return Ok(w.clone());
        }
        let done = self.state.cursor.done_until;
        let now = Utc::now();
        let ready = done + chrono::Duration::from_std(self.cfg.poll_interval).unwrap_or_default();
        if now < ready {
            return Err((ready - now).to_std().unwrap_or(self.cfg.poll_interval));
        }
        let inicio = done - chrono::Duration::from_std(self.cfg.overlap).unwrap_or_default();
        let longest = inicio + chrono::Duration::from_std(self.cfg.window).unwrap_or_default();
        // Whole seconds: what is asked for (`inicio`/`fim` to the second) is what the cursor says.
        let w = Window::new(inicio.trunc_subsecs(0), longest.min(now).trunc_subsecs(0));
        self.state.cursor.window = Some(w.clone());
        Ok(w)
    }

    /// Publishes a page until every record is durable; returns the page count it announced.
    /// While Kafka keeps some records unacknowledged, the ids of those it took are saved (the
    /// cursor stays), so a restart re-reads the page without publishing them again; `None`: asked
    /// to stop meanwhile.
    async fn publish(&mut self, body: &[u8], stop: &RunSignal) -> Result<Option<Option<u32>>, PollError> {
        let received_at = Utc::now();
        let (docs, digests, pages) = match page::split(body) {
            // A GET /pix answer without a page count is its window's last page.
            Some(s) => (s.docs, s.digests, Some(s.pages.unwrap_or(0))),
            // Not the GET /pix shape: decoded whole, so it is dead-lettered with its reason.
            None => (vec![body.to_vec()], vec![page::digest(body)], None),
        };
        let mut first = Vec::new();
        let all: Vec<usize> = (0..docs.len()).collect();
        let keyed = page::decode(&docs, &all, &mut first, &self.s.deps.validation, &self.s.id, received_at);
        let mut pending = self.deliver(&digests, keyed).await;
        let mut delays = backoff(Duration::from_millis(100), Duration::from_secs(10));
        while !pending.is_empty() {
            if !self.s.before_retry(&self.state, pending.len(), &mut delays, stop).await? {
                return Ok(None);
            }
            let keyed = page::decode(&docs, &pending, &mut first, &self.s.deps.validation, &self.s.id, Utc::now());
            pending = self.deliver(&digests, keyed).await;
        }
        Ok(Some(pages))
    }

    /// Submits what was not published before; remembers what is now durable. Returns the item
    /// documents with a record Kafka did not acknowledge.
    async fn deliver(&mut self, digests: &[String], keyed: Vec<Keyed>) -> Vec<usize> {
        let mut rejected_keys: HashMap<usize, String> = HashMap::new();
        let mut doc_of: HashMap<usize, usize> = HashMap::new();
        let mut items = Vec::new();
        let mut dropped = 0u64;
        for Keyed { mut input, doc, part } in keyed {
            let recent = &self.state.recent;
            match &mut input.verdict {
                Ok(events) => {
                    let before = events.len();
                    events.retain(|e| !recent.contains(&page::event_key(e.category().as_str(), e.event_id())));
                    dropped += (before - events.len()) as u64;
                    if events.is_empty() {
                        continue;
                    }
                }
                Err(_) => {
                    let key = page::rejected_key(&digests[doc], part);
                    if recent.contains(&key) {
                        dropped += 1;
                        continue;
                    }
                    rejected_keys.insert(input.index, key);
                }
            }
            doc_of.insert(input.index, doc);
            items.push(input);
        }
        self.s.deps.metrics.source_records.with_label_values(&[&*self.s.id, "duplicate"]).inc_by(dropped);
        if items.is_empty() {
            return Vec::new();
        }
        let report = submit(&self.s.deps, self.s.submission(items, "application/json")).await;
        let mut pending = Vec::new();
        for r in &report.results {
            if r.status == RecordStatus::Unavailable {
                pending.extend(doc_of.get(&r.index).copied());
                continue;
            }
            let key = match (&r.event_id, r.category) {
                (Some(id), Some(cat)) => Some(page::event_key(cat, id)),
                _ => rejected_keys.get(&r.index).cloned(),
            };
            key.into_iter().for_each(|k| self.state.recent.insert(k));
        }
        pending.sort_unstable();
        pending.dedup();
        pending
    }

    /// Moves the cursor past the page just published, durably, and reports it.
    /// A page that was not a GET /pix answer (`pages` None; it was dead-lettered whole) moves on
    /// with the count an earlier page gave, or to the next page when none did, up to
    /// `MAX_UNREADABLE` in a row (then, the cursor saved, the source fails: the API is not
    /// answering GET /pix; the supervisor restarts it with backoff).
    async fn advance(&mut self, mut window: Window, pages: Option<u32>) -> Result<(), PollError> {
        window.next_page += 1;
        self.s.pages_read += 1;
        if pages.is_some() {
            (window.pages, window.unreadable) = (pages, 0);
        } else {
            window.unreadable += 1;
        }
        let give_up = window.unreadable >= MAX_UNREADABLE;
        let cursor = &mut self.state.cursor;
        if window.next_page >= window.pages.unwrap_or(window.next_page + 1) {
            cursor.done_until = window.fim;
            cursor.window = None;
        } else {
            cursor.window = Some(window);
        }
        session::save(&self.state).await?;
        self.s.report(&self.state);
        if give_up {
            let why = format!("{MAX_UNREADABLE} pages in a row were not GET /pix answers (each dead-lettered whole)");
            return Err(PollError::Refused(why));
        }
        Ok(())
    }
}

/// The GET /pix query of a window's next page.
fn query(w: &Window, page_size: u32) -> [(&'static str, String); 4] {
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    [
        ("inicio", ts(w.inicio)),
        ("fim", ts(w.fim)),
        ("paginacao.paginaAtual", w.next_page.to_string()),
        ("paginacao.itensPorPagina", page_size.to_string()),
    ]
}
