//! One batch to the end: decode -> write (retried, crash-isolated) -> dead letters -> flush ->
//! commit. Offsets move only after the write, the dead letters and the flush succeeded; a crash
//! anywhere before re-delivers the batch (at-least-once; writers are idempotent per record).

use std::collections::BTreeMap;
use std::time::Duration;

use super::assignment::SinkConsumer;
use chrono::Utc;
use opentelemetry::trace::TraceContextExt;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::retry::Retrier;
use super::{LagClock, SinkCtx};
use crate::dead_letter::{DeadLetterBatch, DeadLetterRecord, DlqReason, Origin, Stage};
use crate::lifecycle::task::TaskEnd;
use crate::sinks::quarantine::{Coord, Mode, QUARANTINE_AFTER};
use crate::sinks::{OnPermanent, SinkError, SinkRecord, SinkWriter, Verdict};
use crate::telemetry::propagation::extract;

/// Writes one batch to the end. `Err` when asked to stop while the destination was still failing
/// (nothing committed; the batch is re-delivered) or when a permanent error stops the sink.
pub(super) async fn process(
    ctx: &SinkCtx<'_>,
    writer: &mut dyn SinkWriter,
    consumer: &SinkConsumer,
    batch: Vec<OwnedMessage>,
    lag: &mut LagClock,
) -> Result<(), TaskEnd> {
    let (records, mut letters) = super::decode::decode(ctx.id, ctx.accepts, &batch);
    let write_span = spans(ctx, &records);
    let mut retrier = Retrier::new(ctx.id, &ctx.deps.metrics, ctx.stop);
    let started = Instant::now();
    let verdicts = write_all(ctx, writer, &records, &write_span, &mut retrier).await?;
    ctx.deps.metrics.sink_write_seconds.with_label_values(&[ctx.id]).observe(started.elapsed().as_secs_f64());
    letters.extend(account(ctx, &batch, &records, &verdicts));
    publish_letters(ctx, letters, &mut retrier).await?;
    loop {
        match writer.flush().await {
            Ok(()) => break,
            Err(SinkError::Permanent(e)) => return Err(TaskEnd::Failed(format!("flush refused: {e}"))),
            Err(e) => retrier.failed("flush", e).await?,
        }
    }
    commit(ctx, writer, consumer, &batch, lag).await
}

/// A consumer span per record under the producer's context from its headers, and one write span
/// for the batch that links them all (OpenTelemetry messaging conventions).
pub(super) fn spans(ctx: &SinkCtx<'_>, records: &[SinkRecord]) -> tracing::Span {
    let id = ctx.id;
    let write_span = tracing::info_span!("sink.write", otel.name = %format!("{id} write"), pix.sink = %id, pix.records = records.len());
    for r in records {
        let span = tracing::info_span!(
            "kafka.process",
            otel.name = %format!("{} process", r.topic),
            otel.kind = "consumer",
            messaging.system = "kafka",
            messaging.operation.type = "process",
            messaging.destination.name = %r.topic,
            messaging.destination.partition.id = %r.partition,
            messaging.kafka.offset = r.offset,
            messaging.consumer.group.name = %ctx.group,
            pix.sink = %id,
            pix.event_id = %r.event_id(),
        );
        if span.is_disabled() {
            // No trace layer (no OTLP endpoint): nothing to parent or link.
            continue;
        }
        let _ = span.set_parent(extract(r.traceparent.as_deref(), None));
        let sc = span.context().span().span_context().clone();
        if sc.is_valid() {
            write_span.add_link(sc);
        }
    }
    write_span
}

fn coord(r: &SinkRecord) -> Coord {
    (r.topic.clone(), r.partition, r.offset)
}

/// Writes the records: the whole batch at once, or one at a time after a crash (so the next
/// crash names exactly one record, which is quarantined after `QUARANTINE_AFTER` crashes).
async fn write_all(
    ctx: &SinkCtx<'_>,
    writer: &mut dyn SinkWriter,
    records: &[SinkRecord],
    span: &tracing::Span,
    retrier: &mut Retrier<'_>,
) -> Result<Vec<Verdict>, TaskEnd> {
    let (id, crashes) = (ctx.id, &ctx.deps.crashes);
    if crashes.mode(id) == Mode::Batch {
        // If this write panics, the coordinates stay recorded and the next incarnation isolates.
        crashes.begin(id, records.iter().map(coord).collect());
        let v = write_retried(ctx, writer, records, span, retrier).await?;
        crashes.end(id);
        return Ok(v);
    }
    tracing::warn!(sink = %id, "A previous write crashed this sink; writing one record at a time.");
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let c = coord(r);
        if crashes.is_poison(id, &c) {
            tracing::error!(sink = %id, topic = %c.0, partition = c.1, offset = c.2,
                "Record crashed the sink repeatedly; quarantined to the dead-letter topic.");
            crashes.forget(id, &c);
            out.push(Verdict::DeadLetter {
                code: "sink.quarantined",
                detail: format!("the record crashed the sink {QUARANTINE_AFTER} times"),
            });
            continue;
        }
        crashes.begin(id, vec![c]);
        let mut v = write_retried(ctx, writer, std::slice::from_ref(r), span, retrier).await?;
        crashes.end(id);
        out.push(v.pop().unwrap_or(Verdict::Written));
    }
    Ok(out)
}

/// One write, retried while the error is transient; a permanent one is handled as the kind says.
async fn write_retried(
    ctx: &SinkCtx<'_>,
    writer: &mut dyn SinkWriter,
    records: &[SinkRecord],
    span: &tracing::Span,
    retrier: &mut Retrier<'_>,
) -> Result<Vec<Verdict>, TaskEnd> {
    loop {
        match writer.write(records).instrument(span.clone()).await {
            Ok(v) => return Ok(v),
            Err(SinkError::Permanent(e)) => {
                tracing::error!(sink = %ctx.id, error = %e, "The destination refused the batch for good.");
                return match ctx.on_permanent {
                    OnPermanent::Fail => Err(TaskEnd::Failed(format!("the destination refused the batch: {e}"))),
                    OnPermanent::DeadLetter => {
                        Ok(vec![Verdict::DeadLetter { code: "sink.refused", detail: e.clone() }; records.len()])
                    }
                };
            }
            Err(e) => retrier.failed("write", e).await?,
        }
    }
}

/// Metrics per verdict; the dead letters of the records the destination refused.
fn account(
    ctx: &SinkCtx<'_>,
    batch: &[OwnedMessage],
    records: &[SinkRecord],
    verdicts: &[Verdict],
) -> Vec<DeadLetterRecord> {
    let (id, m) = (ctx.id, &ctx.deps.metrics);
    let now = Utc::now();
    let mut letters = Vec::new();
    // One label lookup per batch, not per record (a hash and a lock each).
    let (mut written, end_to_end) = (0, m.end_to_end_seconds.with_label_values(&[id]));
    for (rec, verdict) in records.iter().zip(verdicts) {
        match verdict {
            Verdict::Written => {
                written += 1;
                let waited = now.signed_duration_since(rec.ingested_at().as_utc());
                end_to_end.observe(waited.num_microseconds().unwrap_or(0).max(0) as f64 / 1e6);
            }
            Verdict::DeadLetter { code, detail } => {
                m.sink_failed.with_label_values(&[id]).inc();
                let reason = DlqReason { code: (*code).into(), path: String::new(), detail: detail.clone() };
                let origin = batch
                    .iter()
                    .find(|b| b.partition() == rec.partition && b.offset() == rec.offset && b.topic() == rec.topic);
                if let Some(msg) = origin {
                    letters.push(letter(
                        id,
                        Stage::SinkWrite,
                        msg,
                        rec.payload.clone(),
                        reason,
                        rec.traceparent.clone(),
                    ));
                }
            }
        }
    }
    m.sink_written.with_label_values(&[id]).inc_by(written);
    letters
}

/// Publishes the dead letters, retrying only those Kafka did not acknowledge.
pub(super) async fn publish_letters(
    ctx: &SinkCtx<'_>,
    mut letters: Vec<DeadLetterRecord>,
    retrier: &mut Retrier<'_>,
) -> Result<(), TaskEnd> {
    while !letters.is_empty() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let sent = ctx.deps.dead_letter.send(DeadLetterBatch { records: letters.clone(), deadline }).await;
        let error = match sent {
            Err(e) => e.to_string(),
            Ok(out) => {
                // Keep only what Kafka did not acknowledge, so a retry does not repeat the rest.
                let first_error = out.iter().find_map(|o| o.as_ref().err()).map(ToString::to_string);
                letters = letters.into_iter().zip(out).filter(|(_, o)| o.is_err()).map(|(l, _)| l).collect();
                match first_error {
                    None => break,
                    Some(e) => format!("dead letters not acknowledged: {e}"),
                }
            }
        };
        retrier.failed("dead-letter", error).await?;
    }
    Ok(())
}

/// Everything is durable downstream: only now may the group's offsets move (in the writer's own
/// transaction when it has one).
async fn commit(
    ctx: &SinkCtx<'_>,
    writer: &mut dyn SinkWriter,
    consumer: &SinkConsumer,
    batch: &[OwnedMessage],
    lag: &mut LagClock,
) -> Result<(), TaskEnd> {
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for msg in batch {
        let e = next.entry((msg.topic().to_owned(), msg.partition())).or_insert(0);
        *e = (*e).max(msg.offset() + 1);
    }
    let mut tpl = TopicPartitionList::new();
    for ((t, p), o) in &next {
        let _ = tpl.add_partition_offset(t, *p, Offset::Offset(*o));
    }
    match writer.commit_offsets(&tpl, consumer.group_metadata()).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(error) = consumer.commit(&tpl, CommitMode::Sync) {
                // The partitions may have been revoked by a rebalance: the new owner re-delivers
                // and the idempotent writers absorb the repeat.
                tracing::warn!(sink = %ctx.id, %error, "Offset commit failed; the batch may be re-delivered.");
            }
        }
        Err(e) => return Err(TaskEnd::Failed(format!("the transaction with the offsets failed: {e}"))),
    }
    lag.refresh(ctx, consumer, &next);
    Ok(())
}

pub(super) fn letter(
    id: &str,
    stage: Stage,
    msg: &OwnedMessage,
    payload: Vec<u8>,
    reason: DlqReason,
    tp: Option<String>,
) -> DeadLetterRecord {
    let mut r = DeadLetterRecord::new(stage, id, payload, "application/json", vec![reason], Utc::now());
    r.origin = Some(Origin { topic: msg.topic().to_owned(), partition: msg.partition(), offset: msg.offset() });
    r.key = msg.key().map(<[u8]>::to_vec);
    r.traceparent = tp;
    r
}
