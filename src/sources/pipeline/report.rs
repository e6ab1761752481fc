//! The per-record report of a submission: what is durable, where, and why not.

use pix_domain::Category;
use serde::Serialize;

use crate::dead_letter::{DlqReason, Stage};
use crate::kafka::{DeliveryOutcome, Produced};

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Kafka acknowledged it in its category topic.
    Accepted,
    /// Refused with reasons; its dead letter is durable.
    Rejected,
    /// Kafka could not take it (or its dead letter) in time: not written, retry.
    Unavailable,
    /// This instance acknowledged the same event (same category and event id) within the
    /// duplicates window, or earlier in the same input: not produced again; the coordinates are
    /// the original record's.
    Duplicate,
}

/// One line of the per-record report.
#[derive(Debug, Clone, Serialize)]
pub struct RecordResult {
    /// Item index in the input.
    pub index: usize,
    /// Status.
    pub status: RecordStatus,
    /// The endToEndId, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// The derived event id (accepted records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Category (accepted records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'static str>,
    /// Topic written to (the category topic, or the dead-letter topic for a rejected record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Partition written to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    /// Offset written at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<DlqReason>,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The stage that refused a rejected record (for metrics; the dead letter carries it too).
    #[serde(skip)]
    pub stage: Option<Stage>,
}

/// The report of a whole submission.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Records acknowledged in their topic.
    pub accepted: usize,
    /// Records rejected (and durably dead-lettered).
    pub rejected: usize,
    /// Records not acknowledged.
    pub unavailable: usize,
    /// Records this instance had already acknowledged (not produced again).
    pub duplicate: usize,
    /// Per record, in input order.
    pub results: Vec<RecordResult>,
}

impl RecordResult {
    pub(super) fn new(index: usize, status: RecordStatus, e2e: Option<String>) -> Self {
        Self {
            index,
            status,
            end_to_end_id: e2e,
            event_id: None,
            category: None,
            topic: None,
            partition: None,
            offset: None,
            reasons: Vec::new(),
            error: None,
            stage: None,
        }
    }

    pub(super) fn written(mut self, outcome: DeliveryOutcome) -> Self {
        match outcome {
            Ok(Produced { topic, partition, offset }) => {
                self.topic = Some(topic);
                self.partition = Some(partition);
                self.offset = Some(offset);
            }
            Err(e) => {
                self.status = RecordStatus::Unavailable;
                self.error = Some(e.to_string());
            }
        }
        self
    }
}

impl Report {
    /// The report of finished results, in input order.
    pub(super) fn of(mut results: Vec<RecordResult>) -> Self {
        results.sort_by_key(|r| r.index);
        let count = |s| results.iter().filter(|r| r.status == s).count();
        Report {
            accepted: count(RecordStatus::Accepted),
            rejected: count(RecordStatus::Rejected),
            unavailable: count(RecordStatus::Unavailable),
            duplicate: count(RecordStatus::Duplicate),
            results,
        }
    }

    /// Every record of `items` unavailable for `why`, nothing attempted (the cluster is known to
    /// be unreachable): one line per event an item would have published, one per refused item.
    pub fn unavailable(items: &[super::ItemInput], why: &str) -> Self {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let line = || {
                let mut line = RecordResult::new(item.index, RecordStatus::Unavailable, item.end_to_end_id.clone());
                line.error = Some(why.to_owned());
                line
            };
            match &item.verdict {
                Ok(events) => results.extend(events.iter().map(|e| {
                    let mut l = line();
                    l.event_id = Some(e.event_id().to_owned());
                    l.category = Some(e.category().as_str());
                    l
                })),
                Err(_) => results.push(line()),
            }
        }
        Self::of(results)
    }
}

impl RecordResult {
    /// The line of a copy of an event acknowledged before (`at`): `duplicate`, with its coordinates.
    pub(super) fn duplicate(
        index: usize,
        e2e: Option<String>,
        event_id: String,
        category: Category,
        at: Produced,
    ) -> Self {
        let mut line = Self::new(index, RecordStatus::Duplicate, e2e).written(Ok(at));
        line.event_id = Some(event_id);
        line.category = Some(category.as_str());
        line
    }
}
