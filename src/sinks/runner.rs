//! The consume loop every sink shares, run as a task on the sink's own arbiter:
//! consume -> batch (count / bytes / age) -> decode -> write (retried with backoff, never skipped)
//! -> dead-letter what the destination refused and what could not be decoded -> flush -> commit.
//!
//! Offsets are committed only after the write, the dead letters and the flush succeeded: a crash
//! anywhere before that re-delivers the batch (at-least-once; writers are idempotent per record:
//! HTTP idempotency keys, files that only become visible on flush).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use futures::StreamExt;
use pix_domain::PixEvent;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::time::Instant;

use opentelemetry::trace::TraceContextExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::SinkConfig;
use super::batch::Batcher;
use super::quarantine::{CrashLog, Mode, QUARANTINE_AFTER};
use crate::config::{KafkaConfig, TopicsConfig};
use crate::dead_letter::{DeadLetterBatch, DeadLetterRecord, DlqReason, Origin, Stage};
use crate::kafka::is_connection_property;
use crate::supervisor::task::{Placement, RunSignal, RunState, TaskActor, TaskEnd, is_stopping};
use crate::supervisor::{ChildGuard, Control};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::propagation::extract;

/// What every sink needs from the app.
#[derive(Clone)]
pub struct SinkDeps {
    /// The dead-letter actor.
    pub dead_letter: Recipient<DeadLetterBatch>,
    /// The app's metrics.
    pub metrics: Arc<Metrics>,
    /// Bootstrap servers in use.
    pub bootstrap: String,
    /// Kafka settings (connection properties are passed to the consumer).
    pub kafka: Arc<KafkaConfig>,
    /// Topic names.
    pub topics: Arc<TopicsConfig>,
    /// Which records crashed which sink (outlives restarts).
    pub crashes: Arc<CrashLog>,
}

/// One consumed record, decoded.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    /// Topic it was read from.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The original value bytes (the canonical event JSON).
    pub payload: Vec<u8>,
    /// The decoded event.
    pub event: PixEvent,
    /// W3C trace context from the record headers.
    pub traceparent: Option<String>,
}

/// A writer's answer for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Durably handed to the destination (or will be, at the next flush).
    Written,
    /// The destination refused it for good: it goes to the dead-letter topic with this reason.
    DeadLetter {
        /// Stable reason code.
        code: &'static str,
        /// Explanation (no PII).
        detail: String,
    },
}

/// Starts the actor of a sink; its consume loop runs on an arbiter of its own.
pub fn start(cfg: SinkConfig, deps: SinkDeps, guard: ChildGuard) -> Recipient<Control> {
    let factory =
        Box::new(move |stop| Box::pin(run(cfg, deps, stop)) as futures::future::LocalBoxFuture<'static, TaskEnd>);
    TaskActor::new(guard, factory, Placement::Dedicated).start().recipient()
}

fn consumer_config(deps: &SinkDeps, group: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &deps.bootstrap)
        .set("group.id", group)
        .set("client.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    for (k, v) in &deps.kafka.properties {
        if is_connection_property(k) {
            c.set(k, &v.0);
        }
    }
    c
}

async fn run(cfg: SinkConfig, deps: SinkDeps, mut stop: RunSignal) -> TaskEnd {
    let common = cfg.common();
    let id = common.id.clone();
    let mut writer = match cfg.writer() {
        Ok(w) => w,
        Err(e) => return TaskEnd::Failed(format!("cannot build the writer: {e}")),
    };
    let group = format!("pix-ingest.{id}");
    let consumer: StreamConsumer = match consumer_config(&deps, &group).create() {
        Ok(c) => c,
        Err(e) => return TaskEnd::Failed(format!("cannot create the consumer: {e}")),
    };
    let topics: Vec<String> = common.topics.iter().map(|t| t.resolve(&deps.topics)).collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(e) = consumer.subscribe(&topic_refs) {
        return TaskEnd::Failed(format!("cannot subscribe to {topics:?}: {e}"));
    }
    tracing::info!(sink = %id, group = %group, ?topics, "Sink consuming.");
    let mut batcher = Batcher::new(common.batch.clone());
    let mut pending: Vec<OwnedMessage> = Vec::new();
    let mut lag = LagClock::default();
    let mut paused = false;
    let mut assigned: BTreeSet<(String, i32)> = BTreeSet::new();
    loop {
        // Start and every rebalance: a destination that records its own offsets (Delta) decides
        // where each newly assigned partition is read from.
        if let Ok(a) = consumer.assignment() {
            let now: BTreeSet<(String, i32)> =
                a.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
            if now != assigned {
                let added: Vec<(String, i32)> = now.difference(&assigned).cloned().collect();
                assigned = now;
                if !added.is_empty() {
                    seek_committed(&id, &mut *writer, &consumer, &added, &mut pending).await;
                }
            }
        }
        let state = *stop.borrow_and_update();
        if state == RunState::Paused && !paused {
            // Pausing the partitions stops fetching while we keep polling (so the group does not
            // consider us dead); the open batch is written first so nothing waits half-done.
            if !pending.is_empty() {
                let batch = std::mem::take(&mut pending);
                if let Err(end) = process(&id, &mut *writer, &consumer, &deps, batch, &stop, &mut lag).await {
                    return end;
                }
                batcher.reset();
            }
            if let Ok(a) = consumer.assignment() {
                let _ = consumer.pause(&a);
            }
            paused = true;
            tracing::info!(sink = %id, "Sink paused.");
        } else if state == RunState::Running && paused {
            if let Ok(a) = consumer.assignment() {
                let _ = consumer.resume(&a);
            }
            paused = false;
            tracing::info!(sink = %id, "Sink resumed.");
        }
        let stopping = state == RunState::Stopping;
        if !stopping {
            let wait = if paused {
                Duration::from_millis(500)
            } else {
                batcher.time_left(std::time::Instant::now()).unwrap_or(Duration::from_millis(500))
            };
            let mut stream = consumer.stream();
            tokio::select! {
                biased;
                _ = stop.changed() => continue,
                next = tokio::time::timeout(wait, stream.next()) => {
                    match next {
                        Ok(Some(Ok(m))) => {
                            batcher.add(m.payload_len(), std::time::Instant::now());
                            pending.push(m.detach());
                        }
                        Ok(Some(Err(error))) => tracing::warn!(sink = %id, %error, "Consumer error."),
                        Ok(None) | Err(_) => {}
                    }
                }
            }
        }
        let due = batcher.is_full(std::time::Instant::now()) && !paused;
        if (stopping || due) && !pending.is_empty() {
            let batch = std::mem::take(&mut pending);
            if let Err(end) = process(&id, &mut *writer, &consumer, &deps, batch, &stop, &mut lag).await {
                return end;
            }
            batcher.reset();
        }
        if stopping {
            return TaskEnd::Stopped;
        }
    }
}

/// Seeks each newly assigned partition past the offset the destination already holds, and drops
/// consumed records at or below it. Failures are logged: the destination's own de-duplication
/// (Delta txn versions) still keeps every row exactly once.
async fn seek_committed(
    id: &str,
    writer: &mut dyn super::SinkWriter,
    consumer: &StreamConsumer,
    added: &[(String, i32)],
    pending: &mut Vec<OwnedMessage>,
) {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in added {
        by_topic.entry(t.as_str()).or_default().push(*p);
    }
    for (topic, partitions) in by_topic {
        match writer.committed_offsets(topic, &partitions).await {
            Ok(Some(offsets)) => {
                for (p, last) in offsets {
                    pending.retain(|m| !(m.topic() == topic && m.partition() == p && m.offset() <= last));
                    match consumer.seek(topic, p, Offset::Offset(last + 1), Duration::from_secs(5)) {
                        Ok(()) => {
                            tracing::info!(sink = %id, topic, partition = p, offset = last + 1, "Seeked to the destination's offset.")
                        }
                        Err(error) => {
                            tracing::info!(sink = %id, topic, partition = p, %error, "Seek failed; the destination de-duplicates.")
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(sink = %id, topic, %error, "Cannot read the destination's offsets; it de-duplicates.")
            }
        }
    }
}

/// How often the consumer lag gauge is refreshed.
const LAG_EVERY: Duration = Duration::from_secs(5);

/// When the lag gauge was last refreshed.
#[derive(Default)]
struct LagClock {
    last: Option<std::time::Instant>,
}

/// Writes one batch to the end (write, dead letters, flush, commit). `Err` only when asked to stop
/// while the destination was still failing: nothing is committed and the batch is re-delivered.
async fn process(
    id: &str,
    writer: &mut dyn super::SinkWriter,
    consumer: &StreamConsumer,
    deps: &SinkDeps,
    batch: Vec<OwnedMessage>,
    stop: &RunSignal,
    lag: &mut LagClock,
) -> Result<(), TaskEnd> {
    let m = &deps.metrics;
    let mut records = Vec::with_capacity(batch.len());
    let mut letters = Vec::new();
    for msg in &batch {
        let payload = msg.payload().unwrap_or_default().to_vec();
        let traceparent = msg.headers().and_then(|h| {
            h.iter()
                .find(|x| x.key == "traceparent")
                .and_then(|x| x.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        });
        match serde_json::from_slice::<PixEvent>(&payload) {
            Ok(event) => records.push(SinkRecord {
                topic: msg.topic().to_owned(),
                partition: msg.partition(),
                offset: msg.offset(),
                payload,
                event,
                traceparent,
            }),
            Err(e) => {
                // A poison record: park it in the dead-letter topic with its coordinates, move on.
                let reason = DlqReason {
                    code: "sink.decode".into(),
                    path: String::new(),
                    detail: format!("not a canonical Pix event: {}", e.classify_str()),
                };
                letters.push(letter(id, Stage::SinkDecode, msg, payload, reason, traceparent));
            }
        }
    }

    // Tracing: a consumer span per record under the producer's context from its headers, and one
    // write span for the batch that links them all (OpenTelemetry messaging conventions).
    let group = format!("pix-ingest.{id}");
    let consume_spans: Vec<tracing::Span> = records
        .iter()
        .map(|r| {
            let span = tracing::info_span!(
                "kafka.process",
                otel.name = %format!("{} process", r.topic),
                otel.kind = "consumer",
                messaging.system = "kafka",
                messaging.operation.type = "process",
                messaging.destination.name = %r.topic,
                messaging.destination.partition.id = %r.partition,
                messaging.kafka.offset = r.offset,
                messaging.consumer.group.name = %group,
                pix.sink = %id,
                pix.event_id = %r.event.event_id,
            );
            let _ = span.set_parent(extract(r.traceparent.as_deref(), None));
            span
        })
        .collect();
    let write_span = tracing::info_span!("sink.write", otel.name = %format!("{id} write"), pix.sink = %id, pix.records = records.len());
    for s in &consume_spans {
        let sc = s.context().span().span_context().clone();
        if sc.is_valid() {
            write_span.add_link(sc);
        }
    }
    let started = Instant::now();
    let mut retrier = Retrier::new(id, m, stop);
    let coord = |r: &SinkRecord| (r.topic.clone(), r.partition, r.offset);
    let crashes = &deps.crashes;
    let verdicts = match crashes.mode(id) {
        Mode::Batch => {
            // If this write panics, the coordinates stay recorded and the next incarnation isolates.
            crashes.begin(id, records.iter().map(coord).collect());
            let v = loop {
                match writer.write(&records).instrument(write_span.clone()).await {
                    Ok(v) => break v,
                    Err(e) => retrier.failed("write", e).await?,
                }
            };
            crashes.end(id);
            v
        }
        Mode::Isolate => {
            tracing::warn!(sink = %id, "A previous write crashed this sink; writing one record at a time.");
            let mut out = Vec::with_capacity(records.len());
            for r in &records {
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
                let one = std::slice::from_ref(r);
                let v = loop {
                    match writer.write(one).instrument(write_span.clone()).await {
                        Ok(mut v) => break v.pop().unwrap_or(Verdict::Written),
                        Err(e) => retrier.failed("write", e).await?,
                    }
                };
                crashes.end(id);
                out.push(v);
            }
            out
        }
    };
    m.sink_write_seconds.with_label_values(&[id]).observe(started.elapsed().as_secs_f64());
    let now = chrono::Utc::now();
    for (rec, verdict) in records.iter().zip(&verdicts) {
        match verdict {
            Verdict::Written => {
                m.sink_written.with_label_values(&[id]).inc();
                let waited = now.signed_duration_since(rec.event.ingested_at.as_utc());
                m.end_to_end_seconds
                    .with_label_values(&[id])
                    .observe(waited.num_microseconds().unwrap_or(0).max(0) as f64 / 1e6);
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
    while !letters.is_empty() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let sent = deps.dead_letter.send(DeadLetterBatch { records: letters.clone(), deadline }).await;
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
    loop {
        match writer.flush().await {
            Ok(()) => break,
            Err(e) => retrier.failed("flush", e).await?,
        }
    }

    // Everything is durable downstream: only now may the group's offsets move.
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for msg in &batch {
        let e = next.entry((msg.topic().to_owned(), msg.partition())).or_insert(0);
        *e = (*e).max(msg.offset() + 1);
    }
    let mut tpl = TopicPartitionList::new();
    for ((t, p), o) in &next {
        let _ = tpl.add_partition_offset(t, *p, Offset::Offset(*o));
    }
    if let Err(error) = consumer.commit(&tpl, CommitMode::Sync) {
        // The partitions may have been revoked by a rebalance: the new owner re-delivers and the
        // idempotent writers absorb the repeat.
        tracing::warn!(sink = %id, %error, "Offset commit failed; the batch may be re-delivered.");
    }
    // Lag: the broker's high watermark minus what is committed. A metadata round trip per
    // partition, so at most every LAG_EVERY (it blocks only this sink's own thread).
    if lag.last.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
        lag.last = Some(std::time::Instant::now());
        for ((t, p), o) in &next {
            if let Ok((_, high)) = consumer.fetch_watermarks(t, *p, Duration::from_millis(500)) {
                m.consumer_lag.with_label_values(&[id, t, &p.to_string()]).set((high - o).max(0));
            }
        }
    }
    Ok(())
}

fn letter(
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

/// Backoff between retries of a failing write, flush or dead-letter publish. Failures are retried
/// until they succeed; the only way out is a stop request (then nothing is committed and the batch
/// is re-delivered later), so no record is ever skipped.
struct Retrier<'a> {
    id: &'a str,
    metrics: &'a Metrics,
    stop: &'a RunSignal,
    delays: backon::ExponentialBackoff,
}

impl<'a> Retrier<'a> {
    fn new(id: &'a str, metrics: &'a Metrics, stop: &'a RunSignal) -> Self {
        let delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(10))
            .with_jitter()
            .without_max_times()
            .build();
        Self { id, metrics, stop, delays }
    }

    async fn failed(&mut self, what: &str, error: String) -> Result<(), TaskEnd> {
        self.metrics.sink_retries.with_label_values(&[self.id]).inc();
        if is_stopping(self.stop) {
            tracing::warn!(sink = %self.id, %error, "Stopping while the {what} still fails; the batch will be re-delivered.");
            return Err(TaskEnd::Stopped);
        }
        let delay = self.delays.next().unwrap_or(Duration::from_secs(10));
        tracing::warn!(sink = %self.id, %error, ?delay, "Sink {what} failed; retrying.");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "JSON of the wrong shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
