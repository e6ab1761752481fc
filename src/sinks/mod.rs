//! Sinks: one supervised consumer actor per downstream destination, each in its own consumer
//! group (`pix-ingest.<sink id>`) and on its own arbiter thread, so a slow or failing sink never
//! holds back another.
//!
//! The `runner` owns what every sink shares (consume, batch by count/bytes/age, decode, write,
//! dead-letter, flush, commit offsets only after the write succeeded). A sink kind provides its
//! config struct implementing [`SinkKind`] and a [`SinkWriter`]: adding one touches its folder
//! and one line of the `SinkConfig` registry below.

pub mod batch;
pub mod dedupe;
#[cfg(feature = "delta")]
pub mod delta;
pub mod file;
pub mod http;
pub mod not_built;
pub mod quarantine;
mod record;
pub mod runner;

use futures::future::LocalBoxFuture;
use pix_domain::Category;
use serde::{Deserialize, Serialize};

#[cfg(test)]
pub(crate) use record::samples;
pub use record::{RecordSchema, RecordSender, SinkRecord, Verdict};

use crate::base::kind_registry;

kind_registry! {
    /// One entry of `sinks:`; `type` selects the kind.
    pub enum SinkConfig: dyn SinkKind, "a sink" {
        /// POST events to an HTTP service (fraud scoring).
        Http(http::HttpSinkConfig) = "http",
        /// NDJSON files in a landing directory partitioned by date and category.
        File(file::FileSinkConfig) = "file",
        /// A Delta Lake table, exactly once (feature `delta`, on by default).
        #[cfg(feature = "delta")]
        Delta(delta::DeltaSinkConfig) = "delta",
        /// `delta` in a build without the feature: parsed, then refused or left out by name.
        #[cfg(not(feature = "delta"))]
        Delta(not_built::NotBuiltSinkConfig) = "delta",
        /// Clean topics: each event id once per category, with Kafka transactions.
        Dedupe(dedupe::DedupeStageConfig) = "dedupe",
    }
}

/// The categories a sink reads when its entry names none: every category of canonical events
/// (`fraud_report` records follow another schema and are read only when named).
fn default_topics() -> Vec<Category> {
    Category::TRANSACTIONS.to_vec()
}

fn default_batch() -> batch::BatchConfig {
    batch::BatchConfig::default()
}

/// Settings every sink has.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommonSinkConfig {
    /// Unique id (`[a-z0-9-]`); the consumer group is `pix-ingest.<id>`.
    pub id: String,
    /// Categories to read: `payment`, `receipt`, `refund` (default all three), `fraud_report`
    /// (only for a kind that takes fraud reports, [`SinkKind::accepts`]).
    pub topics: Vec<Category>,
    /// Batch thresholds.
    pub batch: batch::BatchConfig,
}

/// What a sink does with a batch its destination refused for good (a [`SinkError::Permanent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPermanent {
    /// Stop the sink (nothing committed; the supervisor restarts it, then marks it FAILED): for a
    /// destination that refuses everything until an operator fixes it (schema, permissions).
    Fail,
    /// Dead-letter the batch with the reason and move on.
    DeadLetter,
}

/// What each sink kind's config provides; `SinkConfig::kind` dispatches to it.
pub trait SinkKind {
    /// The sink id.
    fn id(&self) -> &str;
    /// Id, topics and batch thresholds.
    fn common(&self) -> CommonSinkConfig;
    /// Kind-specific field problems, as (field, message).
    fn problems(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Builds the writer (called on the sink's own arbiter, at every (re)start).
    fn writer(&self) -> Result<Box<dyn SinkWriter>, SinkError>;
    /// Builds the writer with the cluster's settings at hand (a writer that talks to Kafka
    /// itself overrides this); by default [`SinkKind::writer`].
    fn writer_in(&self, _env: &runner::SinkEnv) -> Result<Box<dyn SinkWriter>, SinkError> {
        self.writer()
    }
    /// The record schemas this sink's writer takes (by the `pix-schema` header): by default the
    /// canonical event only. The config refuses a category whose schema is not here, and the
    /// runner dead-letters a record of another schema (`sink.schema`) before the writer sees it.
    fn accepts(&self) -> &'static [RecordSchema] {
        &[RecordSchema::PixEvent]
    }
    /// What a permanent write error does.
    fn on_permanent(&self) -> OnPermanent {
        OnPermanent::Fail
    }
    /// The cargo feature this kind needs, when this binary was built without it.
    fn compiled_out(&self) -> Option<&'static str> {
        None
    }
}

impl SinkConfig {
    /// The shared part.
    pub fn common(&self) -> CommonSinkConfig {
        self.kind().common()
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        self.kind().id()
    }

    /// Field problems, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let common = self.common();
        let mut out = common.batch.problems();
        if common.topics.is_empty() {
            out.push(("topics", "expected at least one of payment, receipt, refund".into()));
        }
        let accepts = self.kind().accepts();
        for c in common.topics.iter().filter(|c| !accepts.contains(&RecordSchema::of(**c))) {
            out.push((
                "topics",
                format!(
                    "a `{}` sink cannot read {} records (schema `{}`)",
                    self.type_name(),
                    c.as_str(),
                    RecordSchema::of(*c).as_str()
                ),
            ));
        }
        out.extend(self.kind().problems());
        out
    }
}

/// Why a sink operation (build, write, flush, read offsets) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The destination is down or busy: the runner retries with backoff and commits nothing
    /// meanwhile.
    #[error("{0}")]
    Transient(String),
    /// The destination will refuse this again (schema mismatch, permission, invalid config):
    /// retrying cannot help; the kind's [`OnPermanent`] decides.
    #[error("{0}")]
    Permanent(String),
}

impl SinkError {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// The result of a sink operation.
pub type SinkResult<T> = Result<T, SinkError>;

/// What a sink kind implements.
pub trait SinkWriter {
    /// Writes a batch; one verdict per record, in order. `Err` says nothing about single records:
    /// a transient error is retried (the whole batch, with backoff), a permanent one is handled
    /// as the kind's [`OnPermanent`] says. Writing the same records again must be harmless
    /// (idempotency keys, or files not yet visible).
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, SinkResult<Vec<Verdict>>>;

    /// Makes everything written so far durable and visible (a file sink renames its files);
    /// called before offsets are committed. Nothing to do by default (a write that is durable
    /// when it returns).
    fn flush(&mut self) -> LocalBoxFuture<'_, SinkResult<()>> {
        Box::pin(async { Ok(()) })
    }

    /// For a destination that records Kafka offsets itself (Delta): the last offset it holds per
    /// partition, so the runner seeks past it on every assignment. `None`: Kafka's committed
    /// offsets are the truth.
    fn committed_offsets<'a>(
        &'a mut self,
        _topic: &'a str,
        _partitions: &'a [i32],
    ) -> LocalBoxFuture<'a, SinkResult<Option<std::collections::HashMap<i32, i64>>>> {
        Box::pin(async { Ok(None) })
    }

    /// These partitions were revoked (a rebalance gave them to another instance): state kept per
    /// partition can go.
    fn revoked(&mut self, _topic: &str, _partitions: &[i32]) {}

    /// For a writer that commits the consumer's offsets itself, atomically with what it wrote (a
    /// Kafka transaction): called instead of the consumer's commit. `Ok(false)`: not handled, the
    /// runner commits (the default). `Err`: nothing was committed; the runner restarts the sink,
    /// which resumes from the last committed offsets.
    fn commit_offsets<'a>(
        &'a mut self,
        _offsets: &'a rdkafka::TopicPartitionList,
        _group: Option<rdkafka::consumer::ConsumerGroupMetadata>,
    ) -> LocalBoxFuture<'a, SinkResult<bool>> {
        Box::pin(async { Ok(false) })
    }

    /// For a writer whose records are independent deliveries: the sender the runner streams
    /// records through (per-record retries, per-key order, offsets committed up to the lowest
    /// unfinished record). `None` (the default): batches through [`SinkWriter::write`].
    fn streaming(&self) -> Option<std::rc::Rc<dyn RecordSender>> {
        None
    }

    /// What the writer counted, for the runner's metrics.
    fn stats(&self) -> WriterStats {
        WriterStats::default()
    }
}

/// Counters a writer keeps that the runner exports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Copies of an event id the destination already held, not written again (since start).
    pub skipped_duplicates: u64,
    /// Event ids held in memory to decide that.
    pub dedupe_ids: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_type_name_parses_to_its_kind() {
        for name in SinkConfig::TYPE_NAMES {
            let err = serde_json::from_str::<SinkConfig>(&format!(r#"{{"type": "{name}"}}"#)).unwrap_err();
            assert!(!err.to_string().contains("unknown variant"), "{name} is not registered: {err}");
        }
        let err = serde_json::from_str::<SinkConfig>(r#"{"type": "nope"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn serialised_type_is_the_registered_name() {
        // Without the feature `delta`, the delta entry parses as the not-built kind.
        let yaml = "[{id: a, type: http, url: 'http://127.0.0.1:1/'}, {id: b, type: file, dir: d}, \
                    {id: c, type: delta, table_uri: t, pii_salt: '0123456789abcdef'}, {id: e, type: dedupe}]";
        let all: Vec<SinkConfig> = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(all.len(), SinkConfig::TYPE_NAMES.len(), "one example per registered kind");
        assert_eq!(all[2].kind().compiled_out().is_some(), !cfg!(feature = "delta"));
        for s in &all {
            let v = serde_json::to_value(s).unwrap();
            assert_eq!(v["type"], s.type_name());
            assert_eq!(s.common().topics, Category::TRANSACTIONS, "every canonical category by default");
        }
    }

    fn problems_of(yaml: &str) -> Vec<(String, Vec<(&'static str, String)>)> {
        let all: Vec<SinkConfig> = serde_saphyr::from_str(yaml).unwrap();
        all.iter().map(|s| (s.id().to_owned(), s.problems())).collect()
    }

    #[test]
    fn a_sink_that_cannot_read_fraud_reports_refuses_their_category() {
        let yaml = "[{id: b, type: http, url: 'http://127.0.0.1:1/', topics: [fraud_report]}, \
                    {id: e, type: dedupe, topics: [payment, fraud_report]}]";
        for (id, problems) in problems_of(yaml) {
            assert!(
                problems.iter().any(|(f, m)| *f == "topics" && m.contains("cannot read fraud_report records")),
                "{id}: {problems:?}"
            );
        }
    }

    #[test]
    fn file_and_delta_sinks_read_fraud_reports() {
        let mut yaml = "[{id: a, type: file, dir: d, topics: [payment, fraud_report]}".to_owned();
        if cfg!(feature = "delta") {
            yaml += ", {id: c, type: delta, table_uri: t, pii_salt: '0123456789abcdef', topics: [fraud_report]}";
        }
        for (id, problems) in problems_of(&(yaml + "]")) {
            assert!(problems.is_empty(), "{id}: {problems:?}");
        }
    }

    #[cfg(feature = "delta")]
    #[test]
    fn a_delta_sink_does_not_mix_fraud_reports_with_transactions() {
        let yaml =
            "[{id: c, type: delta, table_uri: t, pii_salt: '0123456789abcdef', topics: [payment, fraud_report]}]";
        let problems = &problems_of(yaml)[0].1;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "topics");
        assert!(problems[0].1.contains("one table"), "{problems:?}");
    }
}
