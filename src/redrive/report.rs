//! What a redrive run did: counts, what moved where, what is still refused and why. It names
//! dead letters by coordinates and events by id, never by content, so it is safe to log and to
//! hand to whoever asked.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Selection;
use crate::dead_letter::DlqReason;

/// Most entries of `moved` and of `invalid` a report lists (the counts cover everything).
pub const MAX_LISTED: usize = 1000;

/// The report of one redrive run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The dead-letter topic.
    pub topic: String,
    /// The consumer group that holds this selection's progress.
    pub group: String,
    /// The selection, as understood.
    pub selection: Selection,
    /// Dead letters read (selected or not).
    pub examined: u64,
    /// Dead letters published again (every record they yield acknowledged).
    pub redriven: u64,
    /// Records published (an intra-PSP transfer yields two).
    pub published: u64,
    /// Selected dead letters still refused, by their new first reason code; they stay where they
    /// are.
    pub still_invalid: BTreeMap<String, u64>,
    /// Dead letters left alone, by why: `not_selected` (a filter), `truncated` (bytes cut to fit,
    /// cannot be decoded), `source_unknown` (no such source in the config), `not_a_dead_letter`.
    pub skipped: BTreeMap<String, u64>,
    /// The run read the topic to the end it had when the run began (else it stopped at `limit`
    /// or on an error, and the next run of this selection goes on from there).
    pub complete: bool,
    /// Why the run stopped before the end, when it was an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The dead letters published again and where their records went (at most [`MAX_LISTED`]).
    pub moved: Vec<Moved>,
    /// The selected dead letters still refused (at most [`MAX_LISTED`]).
    pub invalid: Vec<StillInvalid>,
}

/// A dead letter published again.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    /// Its partition in the dead-letter topic.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its records.
    pub records: Vec<Placed>,
}

/// Where a redriven record went.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    /// The event id (the same as a first publish would have had).
    pub event_id: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// A selected dead letter that is still refused.
#[derive(Debug, Clone, Serialize)]
pub struct StillInvalid {
    /// Its partition in the dead-letter topic.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The stage of its dead letter.
    pub stage: String,
    /// Why it is refused today (first code).
    pub reason: String,
    /// Every reason today.
    pub reasons: Vec<DlqReason>,
}

/// What one chunk did; added to the report once its progress is committed.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutcome {
    pub examined: u64,
    pub moved: Vec<Moved>,
    pub invalid: Vec<StillInvalid>,
    pub skipped: BTreeMap<String, u64>,
}

impl Report {
    /// An empty report of a run of `selection` on `topic`.
    pub fn new(topic: &str, group: String, selection: Selection) -> Self {
        Self {
            topic: topic.to_owned(),
            group,
            selection,
            examined: 0,
            redriven: 0,
            published: 0,
            still_invalid: BTreeMap::new(),
            skipped: BTreeMap::new(),
            complete: false,
            stopped: None,
            moved: Vec::new(),
            invalid: Vec::new(),
        }
    }

    /// Adds a committed chunk.
    pub(crate) fn add(&mut self, chunk: ChunkOutcome) {
        self.examined += chunk.examined;
        self.redriven += chunk.moved.len() as u64;
        self.published += chunk.moved.iter().map(|m| m.records.len() as u64).sum::<u64>();
        for i in &chunk.invalid {
            *self.still_invalid.entry(i.reason.clone()).or_default() += 1;
        }
        for (why, n) in chunk.skipped {
            *self.skipped.entry(why).or_default() += n;
        }
        let room = MAX_LISTED.saturating_sub(self.moved.len());
        self.moved.extend(chunk.moved.into_iter().take(room));
        let room = MAX_LISTED.saturating_sub(self.invalid.len());
        self.invalid.extend(chunk.invalid.into_iter().take(room));
    }

    /// The audit line of the run: who, which selection, the counts (no content).
    pub fn audit(&self, by: &str) {
        let selection = serde_json::to_string(&self.selection).unwrap_or_default();
        let still_invalid = serde_json::to_string(&self.still_invalid).unwrap_or_default();
        let skipped = serde_json::to_string(&self.skipped).unwrap_or_default();
        tracing::info!(
            target: "pix_ingest::audit",
            action = "dlq_redrive",
            by,
            topic = %self.topic,
            group = %self.group,
            selection = %selection,
            examined = self.examined,
            redriven = self.redriven,
            published = self.published,
            still_invalid = %still_invalid,
            skipped = %skipped,
            complete = self.complete,
            stopped = self.stopped.as_deref(),
            "Dead letters redriven."
        );
    }
}
