//! [`DeltaWriter`]: opens or creates the table, reads recorded offsets, and appends batches with
//! their txn actions in one commit. See the crate docs for the protocol and the caller's duties.

use std::collections::{HashMap, HashSet};

use deltalake::checkpoints;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter as _, RecordBatchWriter};
use deltalake::{DeltaTable, ensure_table_uri};

use crate::batch;
use crate::config::DeltaSinkConfig;
use crate::dedupe::EventDedupe;
use crate::error::{DeltaSinkError, RowReject, Step};
use crate::offsets::{self, TopicPartition};
use crate::pii::PiiHasher;
use crate::row::{self, Row};
use crate::schema::{self, TableKind};

/// What one [`DeltaWriter::write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Table version after the call: the new commit, or the current version when nothing was
    /// committed.
    pub version: u64,
    /// Whether this call made a commit (false when every row was a duplicate or `rows` was empty).
    pub committed: bool,
    /// Rows written.
    pub written: usize,
    /// Rows skipped because the table already holds their offset (or they repeated in the batch).
    pub skipped_duplicates: usize,
    /// Rows skipped because their topic-partition already holds their event id (dedupe on).
    pub skipped_event_ids: usize,
    /// Whether a checkpoint was written after this commit.
    pub checkpointed: bool,
}

/// Appends Pix events to one Delta table, exactly once per `(topic, partition, offset)`.
///
/// Blocking: the Delta kernel blocks the thread it runs on (docs/engineering-notes.md §1), so run the writer on its
/// own thread / actix `Arbiter` / `spawn_blocking`, never on a shared event loop.
pub struct DeltaWriter {
    cfg: DeltaSinkConfig,
    /// The table handle; its state is refreshed before every offset read so decisions use the
    /// latest commit of any writer.
    table: DeltaTable,
    pii: PiiHasher,
    /// The ids each topic-partition holds, when de-duplicating by event id.
    dedupe: Option<EventDedupe>,
    /// The txn versions as of the loaded table version, so a batch does not scan the log for them.
    known: offsets::Known,
}

impl std::fmt::Debug for DeltaWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaWriter").field("cfg", &self.cfg).field("version", &self.table.version()).finish()
    }
}

impl DeltaWriter {
    /// Opens the table at `cfg.table_uri`, creating it (columns and partitions of `cfg.table`, see
    /// [`TableKind`]) when there is none; fails with
    /// [`DeltaSinkError::SchemaMismatch`] when an existing table has another layout.
    pub async fn open_or_create(cfg: DeltaSinkConfig) -> Result<Self, DeltaSinkError> {
        let problems = cfg.problems();
        let pii = match PiiHasher::new(cfg.pii_salt.as_bytes()) {
            Some(pii) if problems.is_empty() => pii,
            _ => return Err(DeltaSinkError::Config { problems }),
        };
        let uri = cfg.table_uri.as_str();
        let url = ensure_table_uri(uri).map_err(DeltaSinkError::delta(uri, Step::Open))?;
        let mut table = DeltaTable::try_from_url(url).await.map_err(DeltaSinkError::delta(uri, Step::Open))?;
        if table.version().is_none() {
            // `Ignore`: when another instance creates it first, load theirs (checked below).
            // Creating in an empty directory logs a harmless kernel ERROR "No files in log
            // segment" (docs/engineering-notes.md §2).
            table = table
                .create()
                .with_columns(schema::delta_fields(cfg.table))
                .with_partition_columns(cfg.table.partition_columns().to_vec())
                .with_save_mode(SaveMode::Ignore)
                .with_comment(cfg.table.comment())
                .with_commit_properties(CommitProperties::default().with_create_checkpoint(false))
                .await
                .map_err(DeltaSinkError::delta(uri, Step::Create))?;
            tracing::info!(table = uri, "Created the Delta table.");
        }
        let dedupe =
            cfg.dedupe.filter(|_| cfg.table == TableKind::Events).map(|d| EventDedupe::new(d.window_days, d.max_ids));
        let writer = Self { cfg, table, pii, dedupe, known: offsets::Known::default() };
        writer.check_schema()?;
        Ok(writer)
    }

    fn check_schema(&self) -> Result<(), DeltaSinkError> {
        let uri = self.cfg.table_uri.as_str();
        let snapshot = self.table.snapshot().map_err(DeltaSinkError::delta(uri, Step::Open))?;
        let table_schema = snapshot.schema();
        let problems =
            schema::differences(self.cfg.table, table_schema.fields(), snapshot.metadata().partition_columns());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DeltaSinkError::SchemaMismatch { table_uri: uri.to_owned(), problems })
        }
    }

    /// Event ids held in memory for de-duplication, and how many were dropped early to stay under
    /// `max_ids` (both 0 when dedupe is off).
    pub fn dedupe_ids(&self) -> (usize, u64) {
        self.dedupe.as_ref().map_or((0, 0), |d| (d.len(), d.evicted_early()))
    }

    /// Forgets the event ids of partitions this writer no longer owns (after a rebalance).
    pub fn forget(&mut self, topic: &str, partitions: &[i32]) {
        if let Some(d) = &mut self.dedupe {
            let tps: Vec<TopicPartition> = partitions.iter().map(|p| (topic.to_owned(), *p)).collect();
            d.forget(&tps);
        }
    }

    /// The table version currently loaded.
    pub fn version(&self) -> Option<u64> {
        self.table.version()
    }

    /// Reloads the table state (forward only) to see commits of other writers.
    async fn refresh(&mut self) -> Result<(), DeltaSinkError> {
        let uri = self.cfg.table_uri.as_str();
        self.table.update_incremental(None).await.map_err(DeltaSinkError::delta(uri, Step::Refresh))
    }

    /// The offset the table (as loaded) records for `tp`: remembered, or read back from the log.
    async fn recorded(&mut self, tp: &TopicPartition) -> Result<Option<i64>, DeltaSinkError> {
        let version = self.table.version();
        if let Some(offset) = self.known.get(version, tp) {
            return Ok(offset);
        }
        let uri = self.cfg.table_uri.as_str();
        let app_id = offsets::txn_app_id(&self.cfg.app_id, &tp.0, tp.1);
        let log_store = self.table.log_store();
        let offset = self
            .table
            .snapshot()
            .map_err(DeltaSinkError::delta(uri, Step::ReadTxn))?
            .transaction_version(log_store.as_ref(), app_id)
            .await
            .map_err(DeltaSinkError::delta(uri, Step::ReadTxn))?;
        self.known.learn(version, tp, offset);
        Ok(offset)
    }

    /// The last offset recorded in the table for each of `partitions` of `topic` (partitions the
    /// table has never seen are absent). Reloads the table first. Seek each assigned partition to
    /// `offset + 1`; for an absent one, fall back to the consumer group's committed offset.
    pub async fn committed_offsets(
        &mut self,
        topic: &str,
        partitions: &[i32],
    ) -> Result<HashMap<i32, i64>, DeltaSinkError> {
        self.refresh().await?;
        let mut found = HashMap::new();
        for &partition in partitions {
            if let Some(offset) = self.recorded(&(topic.to_owned(), partition)).await? {
                found.insert(partition, offset);
            }
        }
        Ok(found)
    }

    /// Appends `rows` in one Delta commit that also records, per topic-partition, the highest
    /// offset written (a txn action). Rows at or below an offset the table already records are
    /// skipped as duplicates, after reloading the table, so a retry or a replay after a crash
    /// never writes a row twice. Nothing is written when any remaining row is not a canonical
    /// event ([`DeltaSinkError::InvalidRows`]).
    pub async fn write(&mut self, rows: Vec<Row<'_>>) -> Result<WriteOutcome, DeltaSinkError> {
        let uri = self.cfg.table_uri.clone();
        let uri = uri.as_str();
        if rows.is_empty() {
            return Ok(self.nothing_committed(0));
        }
        // The duplicate check must use the table as it is now, not as this handle last saw it:
        // another instance may have written these partitions before a rebalance moved them here.
        self.refresh().await?;
        let tps: HashSet<TopicPartition> = rows.iter().map(|r| (r.topic.clone(), r.partition)).collect();
        let (mut recorded, before) = (HashMap::new(), self.table.version());
        for tp in &tps {
            if let Some(offset) = self.recorded(tp).await? {
                recorded.insert(tp.clone(), offset);
            }
        }
        let mut plan = offsets::plan(rows, &recorded);
        let (mut fresh, mut skipped_event_ids) = (Vec::new(), 0);
        if let Some(d) = &mut self.dedupe {
            d.sync(&self.table, &recorded, &tps).await.map_err(DeltaSinkError::delta(uri, Step::ReadIds))?;
            let filtered = d.filter(std::mem::take(&mut plan.keep));
            (plan.keep, fresh, skipped_event_ids) = (filtered.keep, filtered.fresh, filtered.skipped);
        }
        if plan.keep.is_empty() {
            let mut outcome = self.nothing_committed(plan.skipped_duplicates);
            outcome.skipped_event_ids = skipped_event_ids;
            return Ok(outcome);
        }

        let records = self.records(&plan.keep)?;

        let now_ms = chrono::Utc::now().timestamp_millis();
        let txns: Vec<Transaction> = plan
            .txn_versions
            .iter()
            .map(|((topic, partition), offset)| {
                let app_id = offsets::txn_app_id(&self.cfg.app_id, topic, *partition);
                Transaction::new_with_last_update(app_id, *offset, Some(now_ms))
            })
            .collect();
        // The txn actions ride in the same commit as the data files: either both are in the
        // table or neither is. Writing them in a separate commit would reopen the window in
        // which a crash duplicates or loses rows.
        let properties = CommitProperties::default().with_create_checkpoint(false).with_application_transactions(txns);
        let mut writer = RecordBatchWriter::for_table(&self.table)
            .map_err(DeltaSinkError::delta(uri, Step::WriteFiles))?
            .with_commit_properties(properties);
        let batch = batch::build(writer.arrow_schema(), &records, self.cfg.table)
            .map_err(|source| DeltaSinkError::Arrow { table_uri: uri.to_owned(), source })?;
        writer.write(batch).await.map_err(DeltaSinkError::delta(uri, Step::WriteFiles))?;
        // On a failed commit the uploaded files stay unreferenced (a later VACUUM removes them);
        // the caller retries `write` with the same rows and the refresh above decides again.
        let version =
            writer.flush_and_commit(&mut self.table).await.map_err(DeltaSinkError::delta(uri, Step::Commit))?;
        self.known.committed(before, version, &plan.txn_versions);
        if let Some(d) = &mut self.dedupe {
            d.committed(fresh, &plan.txn_versions);
        }
        let checkpointed = self.maybe_checkpoint(version).await;
        tracing::info!(
            table = uri,
            version,
            written = records.len(),
            skipped_duplicates = plan.skipped_duplicates,
            skipped_event_ids,
            checkpointed,
            "Committed rows and offsets to the Delta table."
        );
        Ok(WriteOutcome {
            version,
            committed: true,
            written: records.len(),
            skipped_duplicates: plan.skipped_duplicates,
            skipped_event_ids,
            checkpointed,
        })
    }

    /// The cells of every row, or every row that is not a canonical event.
    fn records<'a>(&self, rows: &'a [Row<'_>]) -> Result<Vec<row::Record<'a>>, DeltaSinkError> {
        let mut records = Vec::with_capacity(rows.len());
        let mut rejects = Vec::new();
        for row in rows {
            match row::to_record(row, &self.pii, self.cfg.table) {
                Ok(record) => records.push(record),
                Err(reason) => rejects.push(RowReject {
                    topic: row.topic.clone(),
                    partition: row.partition,
                    offset: row.offset,
                    reason,
                }),
            }
        }
        if rejects.is_empty() {
            Ok(records)
        } else {
            Err(DeltaSinkError::InvalidRows { table_uri: self.cfg.table_uri.clone(), rejects })
        }
    }

    fn nothing_committed(&self, skipped_duplicates: usize) -> WriteOutcome {
        WriteOutcome {
            version: self.table.version().unwrap_or(0),
            committed: false,
            written: 0,
            skipped_duplicates,
            skipped_event_ids: 0,
            checkpointed: false,
        }
    }

    /// Writes a checkpoint when `version` is a multiple of the interval. A failure is logged and
    /// not returned: the data is committed, and the next interval writes a newer checkpoint.
    async fn maybe_checkpoint(&self, version: u64) -> bool {
        let interval = self.cfg.checkpoint_interval;
        if interval == 0 || !version.is_multiple_of(interval) {
            return false;
        }
        match checkpoints::create_checkpoint(&self.table, None).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(table = %self.cfg.table_uri, version, error = %error, "Delta checkpoint failed.");
                false
            }
        }
    }
}
