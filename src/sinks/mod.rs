//! Sinks: one supervised consumer actor per downstream destination, each in its own consumer
//! group (`pix-ingest.<sink id>`) and on its own arbiter thread, so a slow or failing sink never
//! holds back another.
//!
//! The `runner` owns what every sink shares (consume, batch by count/bytes/age, decode, write,
//! dead-letter, flush, commit offsets only after the write succeeded). A sink kind only provides a
//! `SinkWriter`: adding one touches its folder, one `SinkConfig` variant and one match arm.

pub mod batch;
#[cfg(feature = "delta")]
pub mod delta;
pub mod file;
pub mod http;
pub mod quarantine;
pub mod runner;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

pub use runner::{SinkRecord, Verdict};

/// Which topics a sink reads, by category name (resolved to the configured topic names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicRef {
    /// `topics.payment`.
    Payment,
    /// `topics.receipt`.
    Receipt,
    /// `topics.refund`.
    Refund,
}

impl TopicRef {
    /// The configured topic name.
    pub fn resolve(self, topics: &crate::config::TopicsConfig) -> String {
        match self {
            Self::Payment => topics.payment.as_str().to_owned(),
            Self::Receipt => topics.receipt.as_str().to_owned(),
            Self::Refund => topics.refund.as_str().to_owned(),
        }
    }
}

fn default_topics() -> Vec<TopicRef> {
    vec![TopicRef::Payment, TopicRef::Receipt, TopicRef::Refund]
}

/// One entry of `sinks:`; `type` selects the kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    /// POST events to an HTTP service (fraud scoring).
    Http(http::HttpSinkConfig),
    /// NDJSON files in a landing directory partitioned by date and category.
    File(file::FileSinkConfig),
    /// A Delta Lake table, exactly once (feature `delta`, on by default).
    #[cfg(feature = "delta")]
    Delta(delta::DeltaSinkConfig),
}

impl<'de> Deserialize<'de> for SinkConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SinkConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sink: a map with `type: http | file | delta`")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<SinkConfig, M::Error> {
                crate::config::visit_tagged(map, |tag, rest| match tag {
                    "http" => http::HttpSinkConfig::deserialize(rest).map(SinkConfig::Http),
                    "file" => file::FileSinkConfig::deserialize(rest).map(SinkConfig::File),
                    #[cfg(feature = "delta")]
                    "delta" => delta::DeltaSinkConfig::deserialize(rest).map(SinkConfig::Delta),
                    other => Err(serde::de::Error::unknown_variant(other, &["http", "file", "delta"])),
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// Settings every sink has.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommonSinkConfig {
    /// Unique id (`[a-z0-9-]`); the consumer group is `pix-ingest.<id>`.
    pub id: String,
    /// Categories to read: `payment`, `receipt`, `refund` (default all three).
    pub topics: Vec<TopicRef>,
    /// Batch thresholds.
    pub batch: batch::BatchConfig,
}

/// What each sink kind's config provides; `SinkConfig` dispatches to it in one place (`kind`).
pub trait SinkKind {
    /// `type` in the YAML.
    fn type_name(&self) -> &'static str;
    /// The sink id.
    fn id(&self) -> &str;
    /// Id, topics and batch thresholds.
    fn common(&self) -> CommonSinkConfig;
    /// Kind-specific field problems, as (field, message).
    fn problems(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Builds the writer (called on the sink's own arbiter, at every (re)start).
    fn writer(&self) -> Result<Box<dyn SinkWriter>, String>;
}

impl SinkConfig {
    /// The kind behind this entry (the one match over the variants).
    pub fn kind(&self) -> &dyn SinkKind {
        match self {
            Self::Http(c) => c,
            Self::File(c) => c,
            #[cfg(feature = "delta")]
            Self::Delta(c) => c,
        }
    }

    /// The shared part.
    pub fn common(&self) -> CommonSinkConfig {
        self.kind().common()
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        self.kind().id()
    }

    /// The `type` of the sink.
    pub fn type_name(&self) -> &'static str {
        self.kind().type_name()
    }

    /// Field problems, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let common = self.common();
        let mut out = common.batch.problems();
        if common.topics.is_empty() {
            out.push(("topics", "expected at least one of payment, receipt, refund".into()));
        }
        out.extend(self.kind().problems());
        out
    }

    /// Builds the writer.
    pub fn writer(&self) -> Result<Box<dyn SinkWriter>, String> {
        self.kind().writer()
    }
}

fn default_batch() -> batch::BatchConfig {
    batch::BatchConfig::default()
}

/// What a sink kind implements.
pub trait SinkWriter {
    /// Writes a batch; one verdict per record, in order. `Err` means nothing can be said about the
    /// batch (destination down): the runner retries the whole batch with backoff and commits
    /// nothing meanwhile. Writing the same records again must be harmless (idempotency keys, or
    /// files not yet visible).
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, Result<Vec<Verdict>, String>>;

    /// Makes everything written so far durable and visible (a file sink renames its files);
    /// called before offsets are committed.
    fn flush(&mut self) -> LocalBoxFuture<'_, Result<(), String>>;

    /// For a destination that records Kafka offsets itself (Delta): the last offset it holds per
    /// partition, so the runner seeks past it on every assignment. `None`: Kafka's committed
    /// offsets are the truth.
    fn committed_offsets<'a>(
        &'a mut self,
        _topic: &'a str,
        _partitions: &'a [i32],
    ) -> LocalBoxFuture<'a, Result<Option<std::collections::HashMap<i32, i64>>, String>> {
        Box::pin(async { Ok(None) })
    }
}
