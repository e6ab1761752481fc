//! The path every source shares after decoding: valid events to the router, rejected items to the
//! dead-letter actor, both awaited together, and a per-record report of what is durable.
//!
//! The report is honest by construction: an item is `accepted` only with the partition and offset
//! Kafka acknowledged, `rejected` only once its dead letter was acknowledged, `duplicate` only when
//! this instance acknowledged the same event before (`acked`), and everything else is
//! `unavailable` (the caller must answer "try again", e.g. HTTP 503).

pub mod acked;
mod report;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pix_domain::{Category, Published};
use tokio::time::Instant;

pub use acked::{AckIndex, DuplicatesConfig};
pub use report::{RecordResult, RecordStatus, Report};

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
    /// The records it yields (two events for an intra-PSP transfer, one fraud report per DICT
    /// report), or why it was refused.
    pub verdict: Result<Vec<Published>, (Stage, Vec<DlqReason>)>,
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

/// A routed record: where it came from, for its line of the report.
struct Routed {
    index: usize,
    end_to_end_id: Option<String>,
    event_id: String,
    category: Category,
    /// Its key in the index of acknowledged events.
    key: acked::Key,
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

/// A copy of an event that is not produced again.
struct Repeat {
    routed: Routed,
    /// Acknowledged by an earlier submission there, or the same as `routed[i]` of this one.
    of: Result<Produced, usize>,
}

/// A submission split into what goes to the router and what goes to the dead-letter actor.
#[derive(Default)]
struct Split {
    routed: Vec<Routed>,
    events: Vec<RoutedEvent>,
    repeats: Vec<Repeat>,
    rejected: Vec<Rejected>,
    letters: Vec<DeadLetterRecord>,
}

impl Split {
    fn of(items: Vec<ItemInput>, meta: &Meta<'_>, acked: &AckIndex) -> Self {
        let mut out = Split::default();
        for item in items {
            match item.verdict {
                Ok(evs) => {
                    for event in evs {
                        let event_id = event.event_id().to_owned();
                        out.routed.push(Routed {
                            index: item.index,
                            end_to_end_id: item.end_to_end_id.clone(),
                            key: acked.key(event.category().as_str(), &event_id),
                            event_id,
                            category: event.category(),
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
                    let letter = meta.letter(stage, item.bytes, reasons.clone(), item.index);
                    out.letters.push(letter.with_key(item.end_to_end_id.clone()));
                    out.rejected.push(Rejected {
                        index: item.index,
                        end_to_end_id: item.end_to_end_id,
                        stage,
                        reasons,
                    });
                }
            }
        }
        if acked.enabled() {
            out.set_repeats_aside(acked);
        }
        out
    }

    /// Takes out of `routed`/`events` every event this instance acknowledged before, and every
    /// second copy within the submission: one lock on the index for the whole submission.
    fn set_repeats_aside(&mut self, acked: &AckIndex) {
        let keys: Vec<acked::Key> = self.routed.iter().map(|r| r.key).collect();
        let earlier = acked.lookup(&keys);
        let mut first: HashMap<acked::Key, usize> = HashMap::new();
        let (routed, events) = (std::mem::take(&mut self.routed), std::mem::take(&mut self.events));
        for ((r, e), before) in routed.into_iter().zip(events).zip(earlier) {
            if let Some(at) = before {
                self.repeats.push(Repeat { routed: r, of: Ok(at) });
            } else if let Some(&i) = first.get(&r.key) {
                self.repeats.push(Repeat { routed: r, of: Err(i) });
            } else {
                first.insert(r.key, self.routed.len());
                self.routed.push(r);
                self.events.push(e);
            }
        }
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
    let Split { routed, events, repeats, rejected, letters } = Split::of(items, &meta, &deps.acked);

    // Route and dead-letter at the same time: one round of broker acknowledgements for both.
    let (route_out, dlq_out) =
        futures::join!(route(deps, &source_id, events, deadline, &client), dead_letter(deps, letters, deadline));

    // Records Kafka refused for good (too large, not authorised) are undeliverable: they go to the
    // dead-letter topic too, with the item's original bytes.
    let mut refused = Vec::new();
    for (r, out) in routed.iter().zip(&route_out) {
        if let Err(e @ DeliveryError::Refused { .. }) = out {
            let reason = DlqReason { code: e.reason_code().into(), path: String::new(), detail: e.to_string() };
            let letter = meta.letter(Stage::Produce, r.original.clone(), vec![reason], r.index);
            refused.push(letter.with_key(r.end_to_end_id.clone()));
        }
    }
    let refused_out = dead_letter(deps, refused.clone(), deadline).await;
    deps.acked.record(routed.iter().zip(&route_out).filter_map(|(r, o)| o.as_ref().ok().map(|p| (r.key, p))));

    let mut results = routed_lines(routed, route_out, refused.into_iter().zip(refused_out));
    let repeated = repeats.into_iter().map(|rep| repeat_line(rep, &results)).collect::<Vec<_>>();
    results.extend(repeated);
    for (r, out) in rejected.into_iter().zip(dlq_out) {
        let mut line = RecordResult::new(r.index, RecordStatus::Rejected, r.end_to_end_id);
        line.reasons = r.reasons;
        line.stage = Some(r.stage);
        results.push(line.written(out));
    }
    account(deps, &source_id, &results);
    Report::of(results)
}

/// The lines of the routed records, in `routed` order (a repeat points at its first by position).
fn routed_lines(
    routed: Vec<Routed>,
    route_out: Vec<DeliveryOutcome>,
    mut refused: impl Iterator<Item = (DeadLetterRecord, DeliveryOutcome)>,
) -> Vec<RecordResult> {
    let mut results = Vec::with_capacity(routed.len());
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
        line.category = Some(r.category.as_str());
        results.push(line);
    }
    results
}

/// A repeat's line: `duplicate` of what was acknowledged, or whatever befell its first copy.
fn repeat_line(rep: Repeat, routed: &[RecordResult]) -> RecordResult {
    let Repeat { routed: r, of } = rep;
    let first = match of {
        Ok(at) => return RecordResult::duplicate(r.index, r.end_to_end_id, r.event_id, r.category, at),
        Err(i) => routed.get(i),
    };
    match first {
        Some(f) if f.status == RecordStatus::Accepted => {
            let at = Produced {
                topic: f.topic.clone().unwrap_or_default(),
                partition: f.partition.unwrap_or_default(),
                offset: f.offset.unwrap_or_default(),
            };
            RecordResult::duplicate(r.index, r.end_to_end_id, r.event_id, r.category, at)
        }
        Some(f) => RecordResult { index: r.index, end_to_end_id: r.end_to_end_id, ..f.clone() },
        None => RecordResult::new(r.index, RecordStatus::Unavailable, r.end_to_end_id),
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
            RecordStatus::Duplicate => "duplicate",
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
