//! The path every source shares after decoding: valid events to the router, rejected items to the
//! dead-letter actor, both awaited together, and a per-record report of what is durable.
//!
//! The report is honest by construction: an item is `accepted` only with the partition and offset
//! Kafka acknowledged, `rejected` only once its dead letter was acknowledged, and everything else
//! is `unavailable` (the caller must answer "try again", e.g. HTTP 503).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pix_domain::PixEvent;
use serde::Serialize;
use tokio::time::Instant;

use crate::dead_letter::{DeadLetterBatch, DeadLetterRecord, DlqReason, Stage};
use crate::kafka::{DeliveryError, DeliveryOutcome, Produced};
use crate::router::{RouteBatch, RoutedEvent};
use crate::sources::SourceDeps;
use crate::telemetry::propagation::TraceParent;

/// One decoded item of an input.
pub struct ItemInput {
    /// Position in the body / file batch.
    pub index: usize,
    /// Its original bytes (what a dead letter carries).
    pub bytes: Vec<u8>,
    /// The events it yields (two for an intra-PSP transfer), or why it was refused.
    pub verdict: Result<Vec<PixEvent>, (Stage, Vec<DlqReason>)>,
    /// The endToEndId, when one could be read (for the report only).
    pub end_to_end_id: Option<String>,
}

/// A whole input (one HTTP request, one batch of lines).
pub struct Submission {
    /// Source id.
    pub source_id: Arc<str>,
    /// Media type of the original bytes.
    pub content_type: String,
    /// When the bytes arrived.
    pub received_at: DateTime<Utc>,
    /// Trace of the input; each record gets a child span id.
    pub trace: TraceParent,
    /// The items.
    pub items: Vec<ItemInput>,
    /// Nothing is waited for past this instant.
    pub deadline: Instant,
    /// The verified client certificate of the connection (mutual TLS), for the records' headers.
    pub client: Option<Arc<crate::tls::PeerIdentity>>,
}

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
    /// Per record, in input order.
    pub results: Vec<RecordResult>,
}

impl RecordResult {
    fn new(index: usize, status: RecordStatus, e2e: Option<String>) -> Self {
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

    fn written(mut self, outcome: DeliveryOutcome) -> Self {
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

/// A routed record: where it came from, for its line of the report.
struct Routed {
    index: usize,
    end_to_end_id: Option<String>,
    event_id: String,
    category: &'static str,
    /// The item's original bytes, in case Kafka refuses the record for good.
    original: Vec<u8>,
}

/// A rejected item waiting for its dead letter's acknowledgement.
struct Rejected {
    index: usize,
    end_to_end_id: Option<String>,
    stage: Stage,
    reasons: Vec<DlqReason>,
}

/// A submission split into what goes to the router and what goes to the dead-letter actor.
#[derive(Default)]
struct Split {
    routed: Vec<Routed>,
    events: Vec<RoutedEvent>,
    rejected: Vec<Rejected>,
    letters: Vec<DeadLetterRecord>,
}

impl Split {
    fn of(items: Vec<ItemInput>, meta: &Meta<'_>) -> Self {
        let mut out = Split::default();
        for item in items {
            match item.verdict {
                Ok(evs) => {
                    for event in evs {
                        out.routed.push(Routed {
                            index: item.index,
                            end_to_end_id: item.end_to_end_id.clone(),
                            event_id: event.event_id.to_string(),
                            category: event.category.as_str(),
                            original: item.bytes.clone(),
                        });
                        out.events.push(RoutedEvent {
                            event,
                            traceparent: meta.trace.child().to_header(),
                            parent: tracing_opentelemetry::OpenTelemetrySpanExt::context(&tracing::Span::current()),
                        });
                    }
                }
                Err((stage, reasons)) => {
                    out.letters.push(meta.letter(stage, item.bytes, reasons.clone(), item.index));
                    out.rejected.push(Rejected {
                        index: item.index,
                        end_to_end_id: item.end_to_end_id,
                        stage,
                        reasons,
                    });
                }
            }
        }
        out
    }
}

/// What every dead letter of one submission shares.
struct Meta<'a> {
    source_id: &'a str,
    content_type: &'a str,
    received_at: DateTime<Utc>,
    trace: &'a TraceParent,
    client: &'a Option<Arc<crate::tls::PeerIdentity>>,
}

impl Meta<'_> {
    fn letter(&self, stage: Stage, bytes: Vec<u8>, reasons: Vec<DlqReason>, index: usize) -> DeadLetterRecord {
        DeadLetterRecord::new(stage, self.source_id, bytes, self.content_type, reasons, self.received_at)
            .with_item_index(index)
            .with_traceparent(self.trace.child().to_header())
            .with_client(self.client.clone())
    }
}

/// Routes and dead-letters a submission and reports what is durable.
pub async fn submit(deps: &SourceDeps, sub: Submission) -> Report {
    let Submission { source_id, content_type, received_at, trace, items, deadline, client } = sub;
    deps.metrics.received.with_label_values(&[&source_id]).inc_by(items.len() as u64);
    let meta = Meta { source_id: &source_id, content_type: &content_type, received_at, trace: &trace, client: &client };
    let Split { routed, events, rejected, letters } = Split::of(items, &meta);

    // Route and dead-letter at the same time: one round of broker acknowledgements for both.
    let (route_out, dlq_out) =
        futures::join!(route(deps, &source_id, events, deadline, &client), dead_letter(deps, letters, deadline));

    // Records Kafka refused for good (too large, not authorised) are undeliverable: they go to the
    // dead-letter topic too, with the item's original bytes.
    let mut refused = Vec::new();
    for (r, out) in routed.iter().zip(&route_out) {
        if let Err(e @ DeliveryError::Refused { .. }) = out {
            let reason = DlqReason { code: e.reason_code().into(), path: String::new(), detail: e.to_string() };
            refused.push(meta.letter(Stage::Produce, r.original.clone(), vec![reason], r.index));
        }
    }
    let refused_out = dead_letter(deps, refused.clone(), deadline).await;
    let mut refused = refused.into_iter().zip(refused_out);

    let mut results: Vec<RecordResult> = Vec::new();
    for (r, out) in routed.into_iter().zip(route_out) {
        let mut line = match out {
            Err(DeliveryError::Refused { .. }) => match refused.next() {
                Some((letter, dlq)) => {
                    let mut line = RecordResult::new(r.index, RecordStatus::Rejected, r.end_to_end_id);
                    line.reasons = letter.reasons;
                    line.stage = Some(Stage::Produce);
                    line.written(dlq)
                }
                None => RecordResult::new(r.index, RecordStatus::Unavailable, r.end_to_end_id),
            },
            out => RecordResult::new(r.index, RecordStatus::Accepted, r.end_to_end_id).written(out),
        };
        line.event_id = Some(r.event_id);
        line.category = Some(r.category);
        results.push(line);
    }
    for (r, out) in rejected.into_iter().zip(dlq_out) {
        let mut line = RecordResult::new(r.index, RecordStatus::Rejected, r.end_to_end_id);
        line.reasons = r.reasons;
        line.stage = Some(r.stage);
        results.push(line.written(out));
    }
    results.sort_by_key(|r| r.index);
    account(deps, &source_id, &results);
    let count = |s| results.iter().filter(|r| r.status == s).count();
    Report {
        accepted: count(RecordStatus::Accepted),
        rejected: count(RecordStatus::Rejected),
        unavailable: count(RecordStatus::Unavailable),
        results,
    }
}

async fn route(
    deps: &SourceDeps,
    source_id: &Arc<str>,
    events: Vec<RoutedEvent>,
    deadline: Instant,
    client: &Option<Arc<crate::tls::PeerIdentity>>,
) -> Vec<DeliveryOutcome> {
    if events.is_empty() {
        return Vec::new();
    }
    let n = events.len();
    deps.router
        .send(RouteBatch { source_id: source_id.clone(), events, deadline, client: client.clone() })
        .await
        .unwrap_or_else(|e| vec![Err(DeliveryError::Unavailable(format!("router: {e}"))); n])
}

async fn dead_letter(deps: &SourceDeps, records: Vec<DeadLetterRecord>, deadline: Instant) -> Vec<DeliveryOutcome> {
    if records.is_empty() {
        return Vec::new();
    }
    let n = records.len();
    deps.dead_letter
        .send(DeadLetterBatch { records, deadline })
        .await
        .unwrap_or_else(|e| vec![Err(DeliveryError::Unavailable(format!("dead-letter actor: {e}"))); n])
}

/// Bumps the source, rejection and dead-letter counters for a finished submission.
fn account(deps: &SourceDeps, source_id: &str, results: &[RecordResult]) {
    let m = &deps.metrics;
    for r in results {
        let outcome = match r.status {
            RecordStatus::Accepted => "accepted",
            RecordStatus::Rejected => "rejected",
            RecordStatus::Unavailable => "unavailable",
        };
        m.source_records.with_label_values(&[source_id, outcome]).inc();
        if r.status == RecordStatus::Rejected {
            let reason = r.reasons.first().map_or("unknown", |x| x.code.as_str());
            m.rejected.with_label_values(&[source_id, reason]).inc();
            let stage = r.stage.unwrap_or(Stage::Validate);
            m.dead_letters.with_label_values(&[stage.as_str(), reason]).inc();
        }
    }
}

#[cfg(test)]
mod tests;
