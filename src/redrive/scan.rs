//! Reading the dead-letter topic from a start to the end it had when the scan began (dead
//! letters written meanwhile wait for the next run), and recording how far a redrive got.
//!
//! The consumer is assigned its partitions (no group membership, no rebalance: a scan starts at
//! once), but it carries the selection's group id, whose committed offsets are the progress of a
//! redrive: read at the start, and written only by [`Scan::commit`] after the records a chunk
//! published were acknowledged, so a run that stops (broker down, process killed) is taken up
//! again by the next run of the same selection without losing a dead letter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::RedriveError;
use super::letter::Letter;
use crate::kafka::KafkaConfig;

/// Longest wait for a metadata, offsets or commit answer.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time without a record before a scan gives up (the broker stopped serving).
const IDLE: Duration = Duration::from_secs(30);
/// How long one wait for a record lasts before the positions are looked at.
const POLL: Duration = Duration::from_secs(1);

/// Where a scan starts.
pub(crate) struct Start {
    /// The consumer group (the selection's).
    pub group: String,
    /// Start at the group's committed offsets, where it has some.
    pub resume: bool,
    /// Otherwise at the first record written at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

/// A scan of the dead-letter topic.
pub(crate) struct Scan {
    /// Shared with the blocking tasks that ask the broker for offsets and commit.
    consumer: Arc<StreamConsumer>,
    topic: String,
    /// The partitions not read to their end yet, with that end (the high watermark when the scan
    /// began).
    open: HashMap<i32, i64>,
}

impl Scan {
    /// Opens a scan of `topic`.
    pub async fn open(kafka: &KafkaConfig, bootstrap: &str, topic: &str, from: Start) -> Result<Self, RedriveError> {
        let mut config = crate::kafka::consumer_config(kafka, bootstrap, &from.group);
        // An assigned consumer is no group member: a static membership id would have it fenced.
        config.remove("group.instance.id");
        let consumer: Arc<StreamConsumer> = Arc::new(config.create().map_err(RedriveError::Kafka)?);
        let (c, t) = (Arc::clone(&consumer), topic.to_owned());
        let (assignment, open) = blocking(move || starts(&c, &t, &from)).await?;
        consumer.assign(&assignment).map_err(RedriveError::Kafka)?;
        Ok(Self { consumer, topic: topic.to_owned(), open })
    }

    /// The next dead letter, `None` once every partition was read to its end.
    pub async fn next(&mut self) -> Result<Option<Letter>, RedriveError> {
        let mut idle_since = Instant::now();
        while !self.open.is_empty() {
            match tokio::time::timeout(POLL, self.consumer.recv()).await {
                Err(_) => {
                    // Nothing came: a partition whose position is at its end already (its last
                    // offsets were no records) is done; one that stays silent is an error.
                    self.close_finished();
                    if idle_since.elapsed() >= IDLE {
                        return Err(RedriveError::Stalled { topic: self.topic.clone(), idle: IDLE });
                    }
                }
                Ok(Ok(m)) => {
                    idle_since = Instant::now();
                    let (p, o) = (m.partition(), m.offset());
                    let Some(&end) = self.open.get(&p) else { continue };
                    if o + 1 >= end {
                        self.open.remove(&p);
                    }
                    if o < end {
                        return Ok(Some(Letter::of(&m)));
                    }
                }
                Ok(Err(error)) => tracing::warn!(%error, topic = %self.topic, "Reading the dead-letter topic."),
            }
        }
        Ok(None)
    }

    /// Closes the partitions whose position reached their end.
    fn close_finished(&mut self) {
        let Ok(positions) = self.consumer.position() else { return };
        for e in positions.elements() {
            if let Offset::Offset(at) = e.offset()
                && self.open.get(&e.partition()).is_some_and(|&end| at >= end)
            {
                self.open.remove(&e.partition());
            }
        }
    }

    /// Records that every dead letter up to `next - 1` of each partition is done.
    pub async fn commit(&self, next: &HashMap<i32, i64>) -> Result<(), RedriveError> {
        if next.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (&p, &o) in next {
            tpl.add_partition_offset(&self.topic, p, Offset::Offset(o)).map_err(RedriveError::Kafka)?;
        }
        let c = Arc::clone(&self.consumer);
        blocking(move || c.commit(&tpl, CommitMode::Sync)).await
    }
}

/// Runs a blocking client call off the event loop.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, KafkaError> + Send + 'static,
) -> Result<T, RedriveError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(r) => r.map_err(RedriveError::Kafka),
        Err(e) => Err(RedriveError::Internal(e.to_string())),
    }
}

/// The assignment of a scan and the end of each partition to read.
fn starts(
    c: &StreamConsumer,
    topic: &str,
    from: &Start,
) -> Result<(TopicPartitionList, HashMap<i32, i64>), KafkaError> {
    let metadata = c.fetch_metadata(Some(topic), ADMIN_TIMEOUT)?;
    let partitions: Vec<i32> = match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() => t.partitions().iter().map(|p| p.id()).collect(),
        _ => Vec::new(),
    };
    let all = |offset: Offset| -> Result<TopicPartitionList, KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            tpl.add_partition_offset(topic, p, offset)?;
        }
        Ok(tpl)
    };
    let committed = if from.resume { Some(c.committed_offsets(all(Offset::Invalid)?, ADMIN_TIMEOUT)?) } else { None };
    let by_time = match from.since {
        // Kafka timestamps start at the epoch: an earlier `since` is the beginning.
        Some(t) => Some(c.offsets_for_times(all(Offset::Offset(t.timestamp_millis().max(0)))?, ADMIN_TIMEOUT)?),
        None => None,
    };
    let offset_in = |tpl: &Option<TopicPartitionList>, p: i32| match tpl.as_ref()?.find_partition(topic, p)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    };
    let (mut assignment, mut open) = (TopicPartitionList::new(), HashMap::new());
    for &p in &partitions {
        let (low, high) = c.fetch_watermarks(topic, p, ADMIN_TIMEOUT)?;
        // A record written at or after `since` has a timestamp at or after it; none is past the
        // end (`End` from the time lookup).
        let start = offset_in(&committed, p).or_else(|| offset_in(&by_time, p)).unwrap_or(match from.since {
            Some(_) => high,
            None => low,
        });
        let start = start.max(low);
        if start < high {
            assignment.add_partition_offset(topic, p, Offset::Offset(start))?;
            open.insert(p, high);
        }
    }
    Ok((assignment, open))
}
