//! Consumer lag of one sink, continuously: every `LAG_EVERY` a task next to the consume loop asks
//! Kafka for the group's committed offsets and each partition's high watermark, and sets
//! `pix_ingest_consumer_lag_records{sink,topic,partition}` to the difference, for every
//! partition of the sink's topics. It runs whether or not the loop commits, so a sink whose
//! destination is down shows its lag growing (the loop is then stuck retrying a write and commits
//! nothing). A partition the group never committed counts from its low watermark (the consumer
//! starts at `earliest`).
//!
//! This is the group's lag as Kafka reports it (what `kafka-consumer-groups --describe` shows),
//! so every instance of one sink reports the same figure: aggregate with `max` across instances,
//! as the recording rules do. The series of a sink are removed when it stops.

use std::sync::Arc;
use std::time::Duration;

use super::assignment::SinkConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::Notify;

use crate::telemetry::metrics::Metrics;

/// How often the lag is refreshed (and at once after each commit).
pub(super) const LAG_EVERY: Duration = Duration::from_secs(2);
/// Bound of each metadata, committed-offsets and watermark request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Nudges the lag task after a commit, so a sink that caught up shows 0 promptly.
#[derive(Default, Clone)]
pub(super) struct LagClock {
    nudge: Arc<Notify>,
}

impl LagClock {
    /// Called after every commit: the task refreshes now instead of at its next tick.
    pub(super) fn refresh<T>(&mut self, _ctx: &super::SinkCtx<'_>, _consumer: &SinkConsumer, _next: &T) {
        self.nudge.notify_one();
    }
}

/// The running lag task of one sink; dropping it stops the task and removes the sink's series.
pub(super) struct LagWatch {
    task: tokio::task::JoinHandle<()>,
    metrics: Arc<Metrics>,
    sink: String,
    /// The (topic, partition) series set so far.
    series: Series,
}

type Series = Arc<std::sync::Mutex<std::collections::BTreeSet<(String, String)>>>;

impl LagWatch {
    /// Starts refreshing the lag of `sink` on `topics` through `consumer` (its group's client).
    pub(super) fn start(
        sink: &str,
        consumer: Arc<SinkConsumer>,
        topics: Vec<String>,
        metrics: Arc<Metrics>,
        clock: &LagClock,
    ) -> Self {
        let (id, m, nudge) = (sink.to_owned(), Arc::clone(&metrics), Arc::clone(&clock.nudge));
        let series: Series = Arc::default();
        let set = Arc::clone(&series);
        let task = tokio::spawn(async move {
            loop {
                let (c, t) = (Arc::clone(&consumer), topics.clone());
                match tokio::task::spawn_blocking(move || measure(&c, &t)).await {
                    Ok(Ok(lags)) => {
                        let mut set = set.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        for (topic, partition, lag) in lags {
                            let partition = partition.to_string();
                            m.consumer_lag.with_label_values(&[&id, &topic, &partition]).set(lag);
                            set.insert((topic, partition));
                        }
                    }
                    Ok(Err(error)) => tracing::debug!(sink = %id, %error, "Consumer lag not measured this time."),
                    Err(_) => return,
                }
                tokio::select! {
                    _ = tokio::time::sleep(LAG_EVERY) => {}
                    _ = nudge.notified() => {}
                }
            }
        });
        Self { task, metrics, sink: sink.to_owned(), series }
    }
}

impl Drop for LagWatch {
    fn drop(&mut self) {
        self.task.abort();
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (topic, partition) in series.iter() {
            let _ = self.metrics.consumer_lag.remove_label_values(&[&self.sink, topic, partition]);
        }
    }
}

/// (topic, partition, lag) for every partition of `topics`: high watermark minus the group's
/// committed offset (the low watermark when nothing is committed). Blocking.
pub(super) fn measure(
    consumer: &SinkConsumer,
    topics: &[String],
) -> Result<Vec<(String, i32, i64)>, rdkafka::error::KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), REQUEST_TIMEOUT)?;
        for t in md.topics() {
            for p in t.partitions() {
                tpl.add_partition(t.name(), p.id());
            }
        }
    }
    let committed = consumer.committed_offsets(tpl, REQUEST_TIMEOUT)?;
    let mut out = Vec::new();
    for e in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(e.topic(), e.partition(), REQUEST_TIMEOUT)?;
        let at = match e.offset() {
            Offset::Offset(o) => o,
            _ => low,
        };
        out.push((e.topic().to_owned(), e.partition(), (high - at).max(0)));
    }
    Ok(out)
}
