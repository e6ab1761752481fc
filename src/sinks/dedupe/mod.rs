//! The dedupe stage (`type: dedupe`): clean topics for every other consumer. It reads the category
//! topics and writes each event id once per category to `<topic><suffix>`, with Kafka
//! transactions: one transaction per batch holds the clean records, their changelog records and
//! the consumer's offsets (consume-transform-produce; consumers of the clean topics read with
//! `isolation.level=read_committed`). It is a sink kind, so it runs in the shared consume loop
//! under the supervisor (visible in `/api/v1/actors`, paused, restarted, added through the admin
//! API like any sink); only the offset commit differs: the transaction carries it.
//!
//! State: per input partition, the ids of the window (`pix_dedupe::SeenIds`), rebuilt from the
//! partition's changelog (committed records only) whenever the partition is assigned; a crash
//! aborts the open transaction, so the changelog, the clean topic and the offsets never disagree.

mod changelog;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::NaiveDate;
use futures::future::LocalBoxFuture;
use pix_dedupe::{Day, Key, SeenIds};
use pix_domain::Category;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::batch::BatchConfig;
use super::runner::SinkEnv;
use super::{SinkError, SinkRecord, SinkResult, SinkWriter, Verdict};

/// How long a transactional call may take.
const TXN: Duration = Duration::from_secs(30);

/// `type: dedupe` entry of `sinks:`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DedupeStageConfig {
    /// Unique id; consumer group `pix-ingest.<id>`; names the changelog topics.
    pub id: String,
    /// Categories to deduplicate.
    #[serde(default = "super::default_topics")]
    pub topics: Vec<Category>,
    /// Batch thresholds (one transaction per batch).
    #[serde(default = "super::default_batch")]
    pub batch: BatchConfig,
    /// The clean topic of `<topic>` is `<topic><suffix>`.
    #[serde(default = "default_suffix")]
    pub suffix: String,
    /// Days of `event_time` an event id is remembered (by event date); also the changelog's
    /// retention.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
    /// Most ids held in memory over the partitions this instance owns.
    #[serde(default = "default_max_ids")]
    pub max_ids: usize,
    /// The producer's `transactional.id`: stable across restarts of one instance, different per
    /// instance. Default `pix-ingest.<id>.<hostname>`.
    #[serde(default)]
    pub transactional_id: Option<String>,
}

fn default_suffix() -> String {
    ".unique".into()
}
fn default_window() -> Duration {
    Duration::from_secs(7 * 86_400)
}
const fn default_max_ids() -> usize {
    10_000_000
}

impl super::SinkKind for DedupeStageConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn common(&self) -> super::CommonSinkConfig {
        super::CommonSinkConfig { id: self.id.clone(), topics: self.topics.clone(), batch: self.batch.clone() }
    }
    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.suffix.is_empty() || !self.suffix.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            out.push(("suffix", "expected a non-empty suffix of [A-Za-z0-9._-]".into()));
        }
        if self.window < Duration::from_secs(86_400) {
            out.push(("window", "expected at least 1d (ids are remembered by event date)".into()));
        }
        out
    }
    fn writer(&self) -> SinkResult<Box<dyn SinkWriter>> {
        Err(SinkError::Permanent("the dedupe stage needs the cluster's settings".into()))
    }
    fn writer_in(&self, env: &SinkEnv) -> SinkResult<Box<dyn SinkWriter>> {
        Ok(Box::new(Stage { cfg: self.clone(), env: env.clone(), producer: None, ids: None, open: None, skipped: 0 }))
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into())
}

fn day_of(date: NaiveDate) -> Day {
    Day::try_from((date - NaiveDate::default()).num_days()).unwrap_or(Day::MAX)
}

/// The open transaction: the ids it adds once committed.
struct Open {
    fresh: Vec<((String, i32), Key, Day)>,
}

/// The stage's writer.
struct Stage {
    cfg: DedupeStageConfig,
    env: SinkEnv,
    producer: Option<FutureProducer>,
    ids: Option<SeenIds<(String, i32)>>,
    open: Option<Open>,
    /// Copies not written again since start.
    skipped: u64,
}

fn transient(what: &str) -> impl FnOnce(rdkafka::error::KafkaError) -> SinkError + '_ {
    move |e| SinkError::Transient(format!("{what}: {e}"))
}

impl Stage {
    /// The transactional producer, created (and its transactions initialised, which fences an
    /// older incarnation with the same id) on first use.
    fn producer(&mut self) -> SinkResult<&FutureProducer> {
        if self.producer.is_none() {
            let id = self
                .cfg
                .transactional_id
                .clone()
                .unwrap_or_else(|| format!("pix-ingest.{}.{}", self.cfg.id, hostname()));
            let mut conf: ClientConfig = crate::kafka::producer_config(
                &self.env.kafka,
                &self.env.bootstrap,
                &format!("pix-ingest.{}", self.cfg.id),
            );
            conf.set("transactional.id", &id);
            let p: FutureProducer = conf.create().map_err(|e| SinkError::Permanent(format!("producer: {e}")))?;
            p.init_transactions(TXN).map_err(transient("init_transactions"))?;
            self.producer = Some(p);
        }
        self.producer.as_ref().ok_or_else(|| SinkError::Transient("no producer".into()))
    }

    fn ids(&mut self) -> &mut SeenIds<(String, i32)> {
        let (days, max) =
            (u32::try_from(self.cfg.window.as_secs().div_ceil(86_400)).unwrap_or(u32::MAX), self.cfg.max_ids);
        self.ids.get_or_insert_with(|| SeenIds::new(days, max))
    }

    fn abort(&mut self) {
        if self.open.take().is_some()
            && let Some(p) = &self.producer
            && let Err(error) = p.abort_transaction(TXN)
        {
            tracing::warn!(stage = %self.cfg.id, %error, "Aborting the open transaction failed; a new producer fences it.");
            self.producer = None;
        }
    }

    /// Reads the ids of `partitions` of `topic` back from its changelog.
    async fn restore(&mut self, topic: &str, partitions: &[i32]) -> SinkResult<()> {
        let clean = format!("{topic}{}", self.cfg.suffix);
        let log = changelog::changelog_topic(&self.cfg.id, topic);
        let (kafka, bootstrap) = (&self.env.kafka, &self.env.bootstrap);
        let n = changelog::partitions(kafka, bootstrap, topic).map_err(transient("metadata"))?;
        changelog::ensure(kafka, bootstrap, &clean, &log, n, self.cfg.window).await.map_err(transient("topics"))?;
        let mut found = changelog::read_back(kafka, bootstrap, &log, partitions).map_err(transient("changelog"))?;
        let stage = self.cfg.id.clone();
        for p in partitions {
            let entries = found.remove(p).unwrap_or_default();
            let ids = self.ids();
            let keys: Vec<(Key, Day)> = entries
                .iter()
                .filter_map(|(id, date)| {
                    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(|d| (ids.key(id), day_of(d)))
                })
                .collect();
            tracing::info!(stage = %stage, topic, partition = *p, ids = keys.len(), "Event ids read back from the changelog.");
            ids.load((topic.to_owned(), *p), keys, None);
        }
        Ok(())
    }
}

impl SinkWriter for Stage {
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, SinkResult<Vec<Verdict>>> {
        Box::pin(async move {
            self.abort();
            let today = day_of(chrono::Utc::now().date_naive());
            let (suffix, id) = (self.cfg.suffix.clone(), self.cfg.id.clone());
            let ids = self.ids();
            ids.expire(today);
            let first = ids.first_day(today);
            let mut fresh = Vec::new();
            let mut keep = Vec::new();
            let mut in_batch = HashSet::new();
            let mut skipped = 0;
            for r in records {
                let tp = (r.topic.clone(), r.partition);
                let date = r.event_time().as_utc().date_naive();
                let day = day_of(date);
                if day >= first {
                    let key = ids.key(r.event_id());
                    if ids.contains(&tp, &key) || !in_batch.insert((tp.clone(), key)) {
                        skipped += 1;
                        continue;
                    }
                    fresh.push((tp, key, day));
                    keep.push((r, Some(date)));
                } else {
                    keep.push((r, None));
                }
            }
            self.skipped += skipped;
            let producer = self.producer()?.clone();
            producer.begin_transaction().map_err(transient("begin_transaction"))?;
            self.open = Some(Open { fresh });
            let mut deliveries = Vec::with_capacity(keep.len() * 2);
            for (r, date) in keep {
                let clean = format!("{}{suffix}", r.topic);
                let mut rec = FutureRecord::to(&clean).partition(r.partition).payload(&r.payload);
                if let Some(k) = &r.key {
                    rec = rec.key(k);
                }
                if let Some(h) = &r.headers {
                    rec = rec.headers(h.clone());
                }
                deliveries.push(producer.send_result(rec).map_err(|(e, _)| e));
                if let Some(date) = date {
                    let log = changelog::changelog_topic(&id, &r.topic);
                    let value = date.format("%Y-%m-%d").to_string();
                    let rec = FutureRecord::to(&log).partition(r.partition).key(r.event_id()).payload(&value);
                    deliveries.push(producer.send_result(rec).map_err(|(e, _)| e));
                }
            }
            for d in deliveries {
                let outcome = match d {
                    Ok(f) => f
                        .await
                        .map_err(|_| "canceled".to_owned())
                        .and_then(|r| r.map(|_| ()).map_err(|(e, _)| e.to_string())),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = outcome {
                    self.abort();
                    return Err(SinkError::Transient(format!("produce in the transaction: {e}")));
                }
            }
            Ok(vec![Verdict::Written; records.len()])
        })
    }

    fn committed_offsets<'a>(
        &'a mut self,
        topic: &'a str,
        partitions: &'a [i32],
    ) -> LocalBoxFuture<'a, SinkResult<Option<HashMap<i32, i64>>>> {
        Box::pin(async move {
            self.restore(topic, partitions).await?;
            // Kafka's committed offsets (written by the transactions) are where to resume.
            Ok(None)
        })
    }

    fn revoked(&mut self, topic: &str, partitions: &[i32]) {
        if let Some(ids) = &mut self.ids {
            for p in partitions {
                ids.forget(&(topic.to_owned(), *p));
            }
        }
    }

    fn commit_offsets<'a>(
        &'a mut self,
        offsets: &'a TopicPartitionList,
        group: Option<ConsumerGroupMetadata>,
    ) -> LocalBoxFuture<'a, SinkResult<bool>> {
        Box::pin(async move {
            let (Some(open), Some(producer), Some(group)) = (self.open.take(), self.producer.clone(), group) else {
                return Err(SinkError::Transient("no open transaction to commit".into()));
            };
            let committed = producer
                .send_offsets_to_transaction(offsets, &group, TXN)
                .and_then(|()| producer.commit_transaction(TXN));
            if let Err(e) = committed {
                self.open = Some(open);
                self.abort();
                return Err(SinkError::Transient(format!("commit_transaction: {e}")));
            }
            let ids = self.ids();
            for (tp, key, day) in open.fresh {
                ids.insert(&tp, key, day);
            }
            Ok(true)
        })
    }

    fn stats(&self) -> super::WriterStats {
        super::WriterStats { skipped_duplicates: self.skipped, dedupe_ids: self.ids.as_ref().map_or(0, SeenIds::len) }
    }
}
