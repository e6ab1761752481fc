//! The Delta Lake sink: appends events to a Delta table (read by Spark batch jobs) exactly once.
//! A sink with `topics: [fraud_report]` writes a fraud reports table instead (its own columns,
//! partitioned by `report_date`; `pix_delta::TableKind::FraudReports`): one table has one schema,
//! so `fraud_report` is never mixed with the transaction categories in one sink.
//!
//! Storage is the `pix-delta` crate: every commit carries, with the data files, one Delta `txn`
//! action per Kafka partition (app id `<sink id>-<topic>-<partition>`, version = last offset
//! written), and a write drops rows at or below the recorded version. On every assignment (start
//! and rebalance) the runner asks `committed_offsets` and seeks each partition to the next
//! offset, so a crash, a restart or a rebalance neither duplicates nor loses a row; Kafka's own
//! committed offsets are only a hint. The Delta kernel blocks its thread, which is why every sink
//! runs on an arbiter of its own.

use std::collections::HashMap;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use pix_delta::{DeltaSinkError, DeltaWriter, Json, Row};
use serde::{Deserialize, Serialize};

use super::batch::BatchConfig;
use super::{SinkError, SinkRecord, SinkResult, SinkWriter, Verdict};
use crate::base::Secret;
use pix_domain::Category;

/// `type: delta` sink.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeltaSinkConfig {
    /// Unique id; consumer group `pix-ingest.<id>`; prefix of the table's txn app ids.
    pub id: String,
    /// Categories to read: transaction categories (an events table) or `fraud_report` alone (a
    /// fraud reports table).
    #[serde(default = "super::default_topics")]
    pub topics: Vec<Category>,
    /// Batch thresholds (one Delta commit per batch).
    #[serde(default = "delta_batch")]
    pub batch: BatchConfig,
    /// Table location: a local path or a URI deltalake supports.
    pub table_uri: String,
    /// Write a Delta checkpoint every N commits.
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval: u64,
    /// Key of the HMAC that replaces CPF/CNPJ, accounts and Pix keys in the lake (at least 16
    /// bytes; never change it for a table). Write it as `"${PIX_DELTA_PII_SALT}"`.
    pub pii_salt: Secret,
    /// Exactly once by event id within this many days of `event_time` (whole days, by event
    /// date): a copy of an event the table already holds adds no row. `0s` turns it off (exactly
    /// once by offset only). Events tables only: a fraud reports table is exactly once by offset.
    #[serde(default = "default_dedupe_window", with = "humantime_serde")]
    pub dedupe_window: Duration,
    /// Most event ids held in memory for that, over the partitions this instance owns (about 30
    /// bytes each); past it the oldest day is forgotten early (`pix_ingest_dedupe_index_entries`).
    #[serde(default = "default_dedupe_max_ids")]
    pub dedupe_max_ids: usize,
}

fn default_dedupe_window() -> Duration {
    Duration::from_secs(7 * 86_400)
}

const fn default_dedupe_max_ids() -> usize {
    10_000_000
}

fn delta_batch() -> BatchConfig {
    BatchConfig { max_events: 5000, max_bytes: 16 * 1024 * 1024, max_age: Duration::from_secs(5) }
}

fn default_checkpoint_interval() -> u64 {
    pix_delta::default_checkpoint_interval()
}

impl DeltaSinkConfig {
    /// The table this sink writes: fraud reports when it reads the `fraud_report` category.
    fn table_kind(&self) -> pix_delta::TableKind {
        if self.topics.contains(&Category::FraudReport) {
            pix_delta::TableKind::FraudReports
        } else {
            pix_delta::TableKind::Events
        }
    }

    fn reads_transactions(&self) -> bool {
        self.topics.iter().any(|c| Category::TRANSACTIONS.contains(c))
    }

    fn storage(&self) -> pix_delta::DeltaSinkConfig {
        pix_delta::DeltaSinkConfig {
            table_uri: self.table_uri.clone(),
            app_id: self.id.clone(),
            checkpoint_interval: self.checkpoint_interval,
            pii_salt: self.pii_salt.expose().to_owned(),
            dedupe: (!self.dedupe_window.is_zero()).then(|| pix_delta::DedupeConfig {
                window_days: u32::try_from(self.dedupe_window.as_secs().div_ceil(86_400)).unwrap_or(u32::MAX),
                max_ids: self.dedupe_max_ids,
            }),
            table: self.table_kind(),
        }
    }

    /// Field problems.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<_> = self.storage().problems().into_iter().map(|p| ("table_uri", p)).collect();
        if self.table_kind() == pix_delta::TableKind::FraudReports && self.reads_transactions() {
            out.push((
                "topics",
                "a delta sink writes one table with one schema: fraud_report cannot be mixed with payment, \
                 receipt or refund (give the fraud reports a delta sink and a table_uri of their own)"
                    .to_owned(),
            ));
        }
        out
    }
}

/// The writer; the table is opened (or created) at the first write.
pub struct DeltaSink {
    cfg: DeltaSinkConfig,
    table: Option<DeltaWriter>,
    /// Copies skipped by event id since start.
    skipped: u64,
}

impl DeltaSink {
    /// A writer for the configured table.
    pub fn new(cfg: &DeltaSinkConfig) -> Self {
        Self { cfg: cfg.clone(), table: None, skipped: 0 }
    }

    async fn table(&mut self) -> SinkResult<&mut DeltaWriter> {
        if self.table.is_none() {
            let w = DeltaWriter::open_or_create(self.cfg.storage()).await.map_err(classify)?;
            self.table = Some(w);
        }
        self.table.as_mut().ok_or_else(|| SinkError::Transient("the table is not open".to_owned()))
    }
}

/// The rows of the records still to be written (verdict `Written`), their strings borrowed from
/// the payloads; a payload that is not JSON gets its dead-letter verdict instead.
fn rows_of<'a>(records: &'a [SinkRecord], verdicts: &mut [Verdict]) -> Vec<Row<'a>> {
    let mut rows = Vec::with_capacity(records.len());
    for (r, verdict) in records.iter().zip(verdicts.iter_mut()) {
        if *verdict != Verdict::Written {
            continue;
        }
        match Json::parse(&r.payload) {
            Ok(event) => rows.push(Row { topic: r.topic.clone(), partition: r.partition, offset: r.offset, event }),
            Err(_) => *verdict = Verdict::DeadLetter { code: "sink.delta.invalid_row", detail: "not JSON".into() },
        }
    }
    rows
}

/// Delta errors the writer classifies as permanent (schema mismatch, invalid config, permission)
/// stop the sink instead of a retry loop; the rest are retried.
fn classify(e: DeltaSinkError) -> SinkError {
    if e.is_retryable() { SinkError::Transient(e.to_string()) } else { SinkError::Permanent(e.to_string()) }
}

impl SinkWriter for DeltaSink {
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, SinkResult<Vec<Verdict>>> {
        Box::pin(async move {
            let mut verdicts = vec![Verdict::Written; records.len()];
            loop {
                // The writer takes the rows by value; they are parsed again for the rare second
                // attempt (rows that did not fit the table left out) instead of cloned for each.
                let rows = rows_of(records, &mut verdicts);
                if rows.is_empty() {
                    return Ok(verdicts);
                }
                let table = self.table().await?;
                match table.write(rows).await {
                    // Rows skipped as duplicates are already in the table: written.
                    Ok(outcome) => {
                        self.skipped += outcome.skipped_event_ids as u64;
                        return Ok(verdicts);
                    }
                    Err(DeltaSinkError::InvalidRows { rejects, .. }) => {
                        // Nothing was written; dead-letter the named rows and write the rest.
                        for rej in rejects {
                            let at = records.iter().zip(&verdicts).position(|(r, v)| {
                                *v == Verdict::Written
                                    && r.topic == rej.topic
                                    && r.partition == rej.partition
                                    && r.offset == rej.offset
                            });
                            if let Some(i) = at {
                                verdicts[i] = Verdict::DeadLetter {
                                    code: "sink.delta.invalid_row",
                                    detail: format!("the row does not fit the table: {}", rej.reason),
                                };
                            }
                        }
                    }
                    Err(e) => {
                        // Reopen on the next attempt: the table state may have moved.
                        self.table = None;
                        return Err(classify(e));
                    }
                }
            }
        })
    }

    fn committed_offsets<'a>(
        &'a mut self,
        topic: &'a str,
        partitions: &'a [i32],
    ) -> LocalBoxFuture<'a, SinkResult<Option<HashMap<i32, i64>>>> {
        Box::pin(async move {
            let table = self.table().await?;
            table.committed_offsets(topic, partitions).await.map(Some).map_err(classify)
        })
    }

    fn revoked(&mut self, topic: &str, partitions: &[i32]) {
        if let Some(t) = &mut self.table {
            t.forget(topic, partitions);
        }
    }

    fn stats(&self) -> super::WriterStats {
        let ids = self.table.as_ref().map_or(0, |t| t.dedupe_ids().0);
        super::WriterStats { skipped_duplicates: self.skipped, dedupe_ids: ids }
    }
}

impl super::SinkKind for DeltaSinkConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn common(&self) -> super::CommonSinkConfig {
        super::CommonSinkConfig { id: self.id.clone(), topics: self.topics.clone(), batch: self.batch.clone() }
    }
    fn problems(&self) -> Vec<(&'static str, String)> {
        DeltaSinkConfig::problems(self)
    }
    fn writer(&self) -> SinkResult<Box<dyn SinkWriter>> {
        Ok(Box::new(DeltaSink::new(self)))
    }
    fn accepts(&self) -> &'static [super::RecordSchema] {
        use super::RecordSchema::{FraudReport, PixEvent};
        // A mixed list is refused by `problems`; the schemas are those of the topics.
        match (self.topics.contains(&Category::FraudReport), self.reads_transactions()) {
            (true, false) => &[FraudReport],
            (true, true) => &[PixEvent, FraudReport],
            (false, _) => &[PixEvent],
        }
    }
}
