//! The DICT poller (`type: dict_poll`): a participant reads the infraction reports and MED
//! refunds the DICT changed, `GET {base_url}/infraction-reports` and `GET {base_url}/refunds`
//! with `Participant`, `ModifiedAfter` (its cursor, one per list) and `Limit`, each page decoded
//! by the `dict_xml` format into `fraud_report` records (`page`) and submitted through the shared
//! pipeline (`sources::pipeline`). The HTTP side (OAuth2 client credentials over mutual TLS,
//! `Retry-After`) and the state file are the shared `sources::poll` pieces.
//!
//! Delivery: a page's records are submitted until every one is acknowledged by Kafka; only then
//! does the list's cursor move to the newest `LastModified` of the page, durably. The next page
//! is asked from that instant while `HasMoreElements` is true; what the DICT returns again (the
//! reports modified at that very instant, or a page re-read after a crash) is dropped by event
//! id (the recent ids kept in the state file). Once both lists say `HasMoreElements` false, the
//! poller waits `poll_interval`.

pub mod config;
mod page;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use self::config::DictPollConfig;
use crate::lifecycle::task::{RunSignal, RunState, blocking, is_stopping, wait_while_paused};
use crate::lifecycle::{ChildGuard, Control, ProgressReporter};
use crate::sources::pipeline::{ItemInput, RecordStatus, submit};
use crate::sources::poll::client::Api;
use crate::sources::poll::session::{self, Session};
use crate::sources::poll::state::State;
use crate::sources::poll::{PollError, backoff};
use crate::sources::{CheckContext, SourceDeps, SourceKind};

/// The lists polled: cursor name and path.
const LISTS: [(List, &str); 2] = [(List::InfractionReports, "infraction-reports"), (List::Refunds, "refunds")];

#[derive(Debug, Clone, Copy)]
enum List {
    InfractionReports,
    Refunds,
}

/// Where the poller is: every report of a list modified up to this instant was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// `ModifiedAfter` of the next infraction-reports page.
    pub infraction_reports: DateTime<Utc>,
    /// `ModifiedAfter` of the next refunds page.
    pub refunds: DateTime<Utc>,
}

impl Cursor {
    fn of(&mut self, list: List) -> &mut DateTime<Utc> {
        match list {
            List::InfractionReports => &mut self.infraction_reports,
            List::Refunds => &mut self.refunds,
        }
    }
}

impl SourceKind for DictPollConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn format(&self) -> pix_domain::formats::Format {
        pix_domain::formats::Format::DictXml
    }
    fn problems(&self, _ctx: &CheckContext) -> Vec<(&'static str, String)> {
        self.field_problems()
    }
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> actix::Recipient<Control> {
        session::start(self.clone(), deps, guard, run)
    }
}

struct Poller {
    cfg: DictPollConfig,
    s: Session,
    state: State<Cursor>,
}

async fn run(
    cfg: DictPollConfig,
    deps: SourceDeps,
    progress: ProgressReporter,
    mut stop: RunSignal,
) -> Result<(), PollError> {
    let start = cfg.start_at.unwrap_or_else(Utc::now);
    let (dir, id, remember) = (cfg.state_dir.clone(), cfg.id.clone(), cfg.remember_ids);
    let initial = Cursor { infraction_reports: start, refunds: start };
    let state = blocking(move || State::load(&dir, &id, initial, remember)).await?;
    let api = Api::new(&cfg.client_settings())?;
    let s = Session::new(&cfg.id, deps, api, cfg.retry(), progress);
    let mut p = Poller { cfg, s, state };
    p.s.report(&p.state);
    loop {
        let mut more = false;
        for (list, path) in LISTS {
            if !wait_while_paused(&mut stop).await {
                return Ok(());
            }
            let Some(body) = p.fetch(list, path, &mut stop).await? else { return Ok(()) };
            let inputs = page::decode(&body, &p.s.deps.validation, &p.s.id);
            let newest = page::newest(&inputs);
            if !p.publish(inputs, &stop).await? {
                return Ok(());
            }
            more |= p.advance(list, newest, page::has_more(&body)).await?;
        }
        if !more {
            let _ = tokio::time::timeout(p.cfg.poll_interval, stop.wait_for(|s| *s == RunState::Stopping)).await;
            if is_stopping(&stop) {
                return Ok(());
            }
        }
    }
}

impl Poller {
    /// Gets a list's next page, retrying with backoff (the server's `Retry-After` first).
    async fn fetch(&mut self, list: List, path: &str, stop: &mut RunSignal) -> Result<Option<Vec<u8>>, PollError> {
        let url = format!("{}/{path}", self.cfg.base_url.trim_end_matches('/'));
        let after = self.state.cursor.of(list).to_rfc3339_opts(SecondsFormat::Millis, true);
        let query = [
            ("Participant", self.cfg.participant.clone()),
            ("ModifiedAfter", after),
            ("Limit", self.cfg.limit.to_string()),
        ];
        self.s.fetch(&url, &query, path, &self.state, stop).await
    }

    /// Submits a page's inputs until every record is durable (the ids of those Kafka took are
    /// saved meanwhile, so a restart drops them); `false`: asked to stop meanwhile.
    async fn publish(&mut self, mut inputs: Vec<ItemInput>, stop: &RunSignal) -> Result<bool, PollError> {
        let mut delays = backoff(Duration::from_millis(100), Duration::from_secs(10));
        loop {
            inputs = self.deliver(inputs).await;
            if inputs.is_empty() {
                return Ok(true);
            }
            if !self.s.before_retry(&self.state, inputs.len(), &mut delays, stop).await? {
                return Ok(false);
            }
        }
    }

    /// Submits what was not published before; returns the inputs Kafka did not acknowledge.
    async fn deliver(&mut self, inputs: Vec<ItemInput>) -> Vec<ItemInput> {
        let mut keys: HashMap<usize, Vec<String>> = HashMap::new();
        let mut items = Vec::new();
        let mut dropped = 0u64;
        for mut input in inputs {
            let recent = &self.state.recent;
            let mine = match &mut input.verdict {
                Ok(events) => {
                    let before = events.len();
                    events.retain(|e| !recent.contains(&key(e.category().as_str(), e.event_id())));
                    dropped += (before - events.len()) as u64;
                    events.iter().map(|e| key(e.category().as_str(), e.event_id())).collect::<Vec<_>>()
                }
                Err(_) => {
                    let k = key("rejected", &format!("{}:{}", digest(&input.bytes), input.index));
                    if recent.contains(&k) { vec![] } else { vec![k] }
                }
            };
            if mine.is_empty() {
                dropped += u64::from(input.verdict.is_err());
                continue;
            }
            keys.insert(input.index, mine);
            items.push(input);
        }
        self.s.deps.metrics.source_records.with_label_values(&[&*self.s.id, "duplicate"]).inc_by(dropped);
        if items.is_empty() {
            return Vec::new();
        }
        let retry: Vec<ItemInput> = items.iter().map(clone_input).collect();
        let report = submit(&self.s.deps, self.s.submission(items, "application/xml")).await;
        let mut unavailable = Vec::new();
        for r in &report.results {
            if r.status == RecordStatus::Unavailable {
                unavailable.push(r.index);
            } else if let Some(k) = r.event_id.as_ref().zip(r.category).map(|(id, cat)| key(cat, id)) {
                self.state.recent.insert(k);
            } else if let Some(ks) = keys.get(&r.index) {
                ks.iter().for_each(|k| self.state.recent.insert(k.clone()));
            }
        }
        retry.into_iter().filter(|i| unavailable.contains(&i.index)).collect()
    }

    /// Moves the list's cursor to the page's newest `LastModified`, durably. Returns whether to
    /// ask for the next page at once (`HasMoreElements` and the cursor moved). A page that says
    /// it has more but moved nothing (every report modified at the cursor's instant) cannot be
    /// paged past: the source fails, naming `limit`.
    async fn advance(&mut self, list: List, newest: Option<DateTime<Utc>>, has_more: bool) -> Result<bool, PollError> {
        self.s.pages_read += 1;
        let cursor = self.state.cursor.of(list);
        let moved = newest.is_some_and(|n| n > *cursor);
        if let Some(n) = newest.filter(|_| moved) {
            *cursor = n;
        }
        session::save(&self.state).await?;
        self.s.report(&self.state);
        if has_more && !moved {
            let why = "a page said HasMoreElements but no report was newer than ModifiedAfter; raise `limit`";
            return Err(PollError::Refused(why.into()));
        }
        Ok(has_more)
    }
}

fn clone_input(i: &ItemInput) -> ItemInput {
    ItemInput {
        index: i.index,
        bytes: i.bytes.clone(),
        verdict: i.verdict.clone(),
        end_to_end_id: i.end_to_end_id.clone(),
    }
}

fn key(category: &str, id: &str) -> String {
    format!("{category}:{id}")
}

fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(bytes)[..16])
}
