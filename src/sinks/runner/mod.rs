//! The consume loop every sink shares, run as a task on the sink's own arbiter:
//! consume -> batch (count / bytes / age) -> `process` (decode, write, dead letters, flush,
//! commit), or, for a writer of independent deliveries (HTTP `single`), the streaming path of
//! `stream.rs` (per-record retries, per-key order, a commit window). This file owns the loop: assignment changes (seek past what the destination already
//! holds), pause and resume, batching, and stopping between batches.

mod assignment;
mod decode;
mod lag;
mod process;
mod retry;
mod stream;
mod window;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::StreamExt;
use rdkafka::Offset;
use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};

use super::batch::Batcher;
use super::quarantine::CrashLog;
use super::{OnPermanent, RecordSchema, SinkConfig, SinkWriter};
use crate::dead_letter::DeadLetterBatch;
use crate::kafka::{KafkaConfig, TopicsConfig, consumer_config};
use crate::lifecycle::task::{Placement, RunSignal, RunState, TaskActor, TaskEnd};
use crate::lifecycle::{ChildGuard, Control};
use crate::telemetry::metrics::Metrics;
use assignment::{AssignmentWatch, Rebalances, SinkConsumer};
use lag::{LagClock, LagWatch};

/// Where sinks read from: the cluster and its topic names.
#[derive(Clone)]
pub struct SinkEnv {
    /// Bootstrap servers in use.
    pub bootstrap: String,
    /// Kafka settings (connection properties are passed to the consumer).
    pub kafka: Arc<KafkaConfig>,
    /// Topic names.
    pub topics: Arc<TopicsConfig>,
}

impl SinkDeps {
    /// The deps of every sink of one app.
    pub fn new(env: SinkEnv, dead_letter: Recipient<DeadLetterBatch>, metrics: Arc<Metrics>) -> Self {
        let SinkEnv { bootstrap, kafka, topics } = env;
        Self { dead_letter, metrics, bootstrap, kafka, topics, crashes: Arc::default() }
    }
}

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

/// What one running sink's batches share.
pub(super) struct SinkCtx<'a> {
    pub(super) id: &'a str,
    pub(super) group: String,
    pub(super) deps: &'a SinkDeps,
    pub(super) stop: &'a RunSignal,
    pub(super) on_permanent: OnPermanent,
    /// The record schemas the writer takes; records of any other are dead-lettered (`sink.schema`).
    pub(super) accepts: &'static [RecordSchema],
}

/// Starts the actor of a sink; its consume loop runs on an arbiter of its own.
pub fn start(cfg: SinkConfig, deps: SinkDeps, guard: ChildGuard) -> Recipient<Control> {
    let factory =
        Box::new(move |stop| Box::pin(run(cfg, deps, stop)) as futures::future::LocalBoxFuture<'static, TaskEnd>);
    TaskActor::new(guard, factory, Placement::Dedicated).start().recipient()
}

async fn run(cfg: SinkConfig, deps: SinkDeps, mut stop: RunSignal) -> TaskEnd {
    let common = cfg.common();
    let id = common.id.clone();
    let env =
        SinkEnv { bootstrap: deps.bootstrap.clone(), kafka: Arc::clone(&deps.kafka), topics: Arc::clone(&deps.topics) };
    let mut writer = match cfg.kind().writer_in(&env) {
        Ok(w) => w,
        Err(e) => return TaskEnd::Failed(format!("cannot build the writer: {e}")),
    };
    let group = group_of(&id);
    let consumer: Arc<SinkConsumer> =
        match consumer_config(&deps.kafka, &deps.bootstrap, &group).create_with_context(Rebalances::default()) {
            Ok(c) => Arc::new(c),
            Err(e) => return TaskEnd::Failed(format!("cannot create the consumer: {e}")),
        };
    let topics: Vec<String> = common.topics.iter().map(|c| deps.topics.of(*c).as_str().to_owned()).collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(e) = consumer.subscribe(&topic_refs) {
        return TaskEnd::Failed(format!("cannot subscribe to {topics:?}: {e}"));
    }
    let instance = deps.kafka.group_instance_id(&group);
    tracing::info!(sink = %id, group = %group, ?instance, ?topics, "Sink consuming.");
    let stop_view = stop.clone();
    let ctx = SinkCtx {
        id: &id,
        group,
        deps: &deps,
        stop: &stop_view,
        on_permanent: cfg.kind().on_permanent(),
        accepts: cfg.kind().accepts(),
    };
    let mut state = LoopState::new(Batcher::new(common.batch.clone()));
    // The lag is measured whatever commits (both paths): an outage shows as growing lag.
    let _lag = LagWatch::start(&id, Arc::clone(&consumer), topics.clone(), Arc::clone(&deps.metrics), &state.lag);
    if let Some(sender) = writer.streaming() {
        return stream::run(&ctx, sender, &consumer, &mut stop, &common.batch).await;
    }
    loop {
        state.follow_assignment(&id, &mut *writer, &consumer).await;
        let run_state = *stop.borrow_and_update();
        if let Err(end) = state.pause_or_resume(&ctx, &mut *writer, &consumer, run_state).await {
            return end;
        }
        let stopping = run_state == RunState::Stopping;
        if !stopping {
            let wait = if state.paused {
                Duration::from_millis(500)
            } else {
                state.batcher.time_left(std::time::Instant::now()).unwrap_or(Duration::from_millis(500))
            };
            let mut stream = consumer.stream();
            tokio::select! {
                biased;
                _ = stop.changed() => continue,
                next = tokio::time::timeout(wait, stream.next()) => match next {
                    Ok(Some(Ok(m))) => {
                        state.batcher.add(m.payload_len(), std::time::Instant::now());
                        state.pending.push(m.detach());
                    }
                    Ok(Some(Err(error))) => {
                        if let Some(end) = fatal(&deps.kafka, &group_of(&id), &error) {
                            return end;
                        }
                        tracing::warn!(sink = %id, %error, "Consumer error.");
                    }
                    Ok(None) | Err(_) => {}
                },
            }
        }
        let due = state.batcher.is_full(std::time::Instant::now()) && !state.paused;
        if (stopping || due)
            && let Err(end) = state.write_pending(&ctx, &mut *writer, &consumer).await
        {
            return end;
        }
        if stopping {
            return TaskEnd::Stopped;
        }
    }
}

/// The consumer group of sink `id`.
fn group_of(id: &str) -> String {
    format!("pix-ingest.{id}")
}

/// A fatal consumer error ends the consumer for good: the sink stops (nothing committed past what
/// was written) and the supervisor builds a new one. Fenced means another live consumer joined
/// with this consumer's `group.instance.id`: two instances share a `kafka.instance_id`.
fn fatal(kafka: &KafkaConfig, group: &str, error: &rdkafka::error::KafkaError) -> Option<TaskEnd> {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    match error {
        KafkaError::MessageConsumption(RDKafkaErrorCode::FencedInstanceId)
        | KafkaError::MessageConsumptionFatal(RDKafkaErrorCode::FencedInstanceId) => {
            let instance = kafka.group_instance_id(group).unwrap_or_default();
            tracing::error!(group, instance = %instance, "Fenced: another running consumer uses this group.instance.id; kafka.instance_id must be unique per running instance.");
            Some(TaskEnd::Failed(format!(
                "fenced: another running consumer of {group} joined as {instance}; give each instance its own kafka.instance_id"
            )))
        }
        KafkaError::MessageConsumptionFatal(_) => Some(TaskEnd::Failed(format!("fatal consumer error: {error}"))),
        _ => None,
    }
}

/// The loop's state between iterations.
struct LoopState {
    batcher: Batcher,
    pending: Vec<OwnedMessage>,
    lag: LagClock,
    paused: bool,
    assigned: BTreeSet<(String, i32)>,
    watch: AssignmentWatch,
    /// The writer's counters at the last batch.
    stats: super::WriterStats,
}

impl LoopState {
    fn new(batcher: Batcher) -> Self {
        Self {
            batcher,
            pending: Vec::new(),
            lag: LagClock::default(),
            paused: false,
            assigned: BTreeSet::new(),
            watch: AssignmentWatch::default(),
            stats: super::WriterStats::default(),
        }
    }

    /// Writes the open batch, if any, to the end.
    async fn write_pending(
        &mut self,
        ctx: &SinkCtx<'_>,
        writer: &mut dyn SinkWriter,
        consumer: &SinkConsumer,
    ) -> Result<(), TaskEnd> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        process::process(ctx, writer, consumer, batch, &mut self.lag).await?;
        // The batch went through: a sink shown DEGRADED by failing writes is healthy again.
        ctx.deps.metrics.health.recovered(ctx.id);
        self.batcher.reset();
        let stats = writer.stats();
        let m = &ctx.deps.metrics;
        m.dedupe_skipped
            .with_label_values(&[ctx.id])
            .inc_by(stats.skipped_duplicates.saturating_sub(self.stats.skipped_duplicates));
        m.dedupe_entries.with_label_values(&[ctx.id]).set(i64::try_from(stats.dedupe_ids).unwrap_or(i64::MAX));
        self.stats = stats;
        Ok(())
    }

    /// Start and every rebalance: a destination that records its own offsets (Delta) decides
    /// where each newly assigned partition is read from.
    async fn follow_assignment(&mut self, id: &str, writer: &mut dyn SinkWriter, consumer: &SinkConsumer) {
        let Some(a) = self.watch.changed(consumer) else { return };
        let now = assignment::partitions(&a);
        if now != self.assigned {
            let added: Vec<(String, i32)> = now.difference(&self.assigned).cloned().collect();
            for (topic, partition) in self.assigned.difference(&now) {
                writer.revoked(topic, &[*partition]);
            }
            self.assigned = now;
            if !added.is_empty() {
                seek_committed(id, writer, consumer, &added, &mut self.pending).await;
            }
        }
    }

    /// Pausing stops fetching while we keep polling (so the group does not consider us dead); the
    /// open batch is written first so nothing waits half-done.
    async fn pause_or_resume(
        &mut self,
        ctx: &SinkCtx<'_>,
        writer: &mut dyn SinkWriter,
        consumer: &SinkConsumer,
        state: RunState,
    ) -> Result<(), TaskEnd> {
        if state == RunState::Paused && !self.paused {
            self.write_pending(ctx, writer, consumer).await?;
            if let Ok(a) = consumer.assignment() {
                let _ = consumer.pause(&a);
            }
            self.paused = true;
            tracing::info!(sink = %ctx.id, "Sink paused.");
        } else if state == RunState::Running && self.paused {
            if let Ok(a) = consumer.assignment() {
                let _ = consumer.resume(&a);
            }
            self.paused = false;
            tracing::info!(sink = %ctx.id, "Sink resumed.");
        }
        Ok(())
    }
}

/// Seeks each newly assigned partition past the offset the destination already holds, and drops
/// consumed records at or below it. Failures are logged: the destination's own de-duplication
/// (Delta txn versions) still keeps every row exactly once.
async fn seek_committed(
    id: &str,
    writer: &mut dyn SinkWriter,
    consumer: &SinkConsumer,
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
