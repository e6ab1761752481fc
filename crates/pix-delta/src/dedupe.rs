//! Exactly once **by event id**, on top of exactly once by offset: a copy of an event that arrives
//! again on the same topic-partition (a client retry, a webhook retry, a redrive: a new Kafka
//! record, a new offset) within the window adds no row.
//!
//! The table is the state. Rows carry `kafka_topic`, `kafka_partition`, `event_id` and are
//! partitioned by `event_date`, so the ids a topic-partition holds within the window are read back
//! from the files of the last `window` days ([`scan`]) when the partition first shows up in a
//! batch, and again whenever its txn version moved without this writer (another instance wrote it:
//! a rebalance, a second sink instance). Between those, the index ([`pix_dedupe::SeenIds`]) is
//! kept up to date with what this writer commits. Skipped copies still advance the partition's
//! txn version, so their offsets count as consumed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::datatypes::{DataType, Int32Type};
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::parquet::arrow::ProjectionMask;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::{DeltaTable, DeltaTableError};
use pix_dedupe::{Day, Key, SeenIds};

use crate::offsets::TopicPartition;
use crate::row::Row;

/// The event-id half of the writer's bookkeeping.
#[derive(Debug)]
pub(crate) struct EventDedupe {
    ids: SeenIds<TopicPartition>,
}

/// What one batch's filter decided.
pub(crate) struct Filtered<'a> {
    /// Rows to write.
    pub(crate) keep: Vec<Row<'a>>,
    /// The ids to remember once the commit succeeded.
    pub(crate) fresh: Vec<(TopicPartition, Key, Day)>,
    /// Copies of an id the partition already holds (or repeated in the batch).
    pub(crate) skipped: usize,
}

/// Days since the epoch of a date.
fn day_of(date: NaiveDate) -> Day {
    Day::try_from((date - NaiveDate::default()).num_days()).unwrap_or(Day::MAX)
}

fn today() -> Day {
    day_of(Utc::now().date_naive())
}

/// `(event_id, day of event_time)` of a row, when both can be read.
fn identity<'a>(row: &'a Row<'_>) -> Option<(&'a str, Day)> {
    let id = row.event.get("event_id")?.as_str()?;
    let time = DateTime::parse_from_rfc3339(row.event.get("event_time")?.as_str()?).ok()?;
    Some((id, day_of(time.with_timezone(&Utc).date_naive())))
}

impl EventDedupe {
    pub(crate) fn new(window_days: u32, max_ids: usize) -> Self {
        Self { ids: SeenIds::new(window_days, max_ids) }
    }

    /// Ids held in memory, all partitions.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Ids dropped early to stay under the memory bound.
    pub(crate) fn evicted_early(&self) -> u64 {
        self.ids.evicted_early()
    }

    /// Makes the index of every partition in `tps` reflect the table as loaded: partitions never
    /// loaded, or whose txn version (`recorded`) is not the one the index was synced at, are read
    /// back from the table in one scan.
    pub(crate) async fn sync(
        &mut self,
        table: &DeltaTable,
        recorded: &HashMap<TopicPartition, i64>,
        tps: &HashSet<TopicPartition>,
    ) -> Result<(), DeltaTableError> {
        self.ids.expire(today());
        let stale: HashSet<TopicPartition> = tps
            .iter()
            .filter(|tp| !self.ids.is_loaded(tp) || self.ids.synced(tp) != recorded.get(*tp).copied())
            .cloned()
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        let first = self.ids.first_day(today());
        let mut found = scan(table, &stale, first).await?;
        for tp in stale {
            let rows = found.remove(&tp).unwrap_or_default();
            let keys: Vec<(Key, Day)> = rows.iter().map(|(id, day)| (self.ids.key(id), *day)).collect();
            tracing::info!(topic = %tp.0, partition = tp.1, ids = keys.len(), "Event ids read back from the table.");
            let position = recorded.get(&tp).copied();
            self.ids.load(tp, keys, position);
        }
        Ok(())
    }

    /// Splits `rows` into those to write and the copies to skip.
    pub(crate) fn filter<'a>(&self, rows: Vec<Row<'a>>) -> Filtered<'a> {
        let first = self.ids.first_day(today());
        let mut out = Filtered { keep: Vec::with_capacity(rows.len()), fresh: Vec::new(), skipped: 0 };
        let mut in_batch: HashSet<(TopicPartition, Key)> = HashSet::new();
        for row in rows {
            let tp = (row.topic.clone(), row.partition);
            match identity(&row) {
                // An event older than the window is not de-duplicated (nor remembered).
                Some((id, day)) if day >= first => {
                    let key = self.ids.key(id);
                    if self.ids.contains(&tp, &key) || !in_batch.insert((tp.clone(), key)) {
                        out.skipped += 1;
                        continue;
                    }
                    out.fresh.push((tp, key, day));
                }
                _ => {}
            }
            out.keep.push(row);
        }
        out
    }

    /// The commit holding `fresh` succeeded at these txn versions.
    pub(crate) fn committed(
        &mut self,
        fresh: Vec<(TopicPartition, Key, Day)>,
        versions: &std::collections::BTreeMap<TopicPartition, i64>,
    ) {
        for (tp, key, day) in fresh {
            self.ids.insert(&tp, key, day);
        }
        for (tp, version) in versions {
            self.ids.set_synced(tp, Some(*version));
        }
    }

    /// Forgets partitions this writer no longer owns.
    pub(crate) fn forget(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            self.ids.forget(tp);
        }
    }
}

/// The `event_date` partition value in a file path (`…/event_date=2026-11-25/category=…/part-….parquet`).
fn partition_day(path: &str) -> Option<Day> {
    let value = path.split('/').find_map(|seg| seg.strip_prefix("event_date="))?;
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(day_of)
}

/// `(event_id, day)` of every row of `tps` in the files of `event_date >= first`, reading only the
/// three columns it needs.
async fn scan(
    table: &DeltaTable,
    tps: &HashSet<TopicPartition>,
    first: Day,
) -> Result<HashMap<TopicPartition, Vec<(String, Day)>>, DeltaTableError> {
    let store = table.object_store();
    let mut out: HashMap<TopicPartition, Vec<(String, Day)>> = HashMap::new();
    let files: Vec<(deltalake::Path, Day)> = table
        .snapshot()?
        .log_data()
        .iter()
        .filter_map(|f| partition_day(&f.path()).filter(|d| *d >= first).map(|d| (f.object_store_path(), d)))
        .collect();
    for (path, day) in files {
        let bytes = store.get(&path).await?.bytes().await?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), ["event_id", "kafka_topic", "kafka_partition"]);
        for batch in builder.with_projection(mask).build()? {
            let batch = batch?;
            let column = |name: &str| {
                let c = batch.column_by_name(name).ok_or_else(|| missing(name))?;
                deltalake::arrow::compute::cast(c, &DataType::Utf8).map_err(DeltaTableError::from)
            };
            let (ids, topics) = (column("event_id")?, column("kafka_topic")?);
            let (ids, topics) = (ids.as_string::<i32>(), topics.as_string::<i32>());
            let parts = batch.column_by_name("kafka_partition").ok_or_else(|| missing("kafka_partition"))?;
            let parts = parts.as_primitive_opt::<Int32Type>().ok_or_else(|| missing("kafka_partition"))?;
            for i in 0..batch.num_rows() {
                if ids.is_null(i) || topics.is_null(i) || parts.is_null(i) {
                    continue;
                }
                let tp = (topics.value(i).to_owned(), parts.value(i));
                if tps.contains(&tp) {
                    out.entry(tp).or_default().push((ids.value(i).to_owned(), day));
                }
            }
        }
    }
    Ok(out)
}

fn missing(column: &str) -> DeltaTableError {
    DeltaTableError::Generic(format!("a data file has no `{column}` column"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_comes_from_the_partition_directory() {
        assert_eq!(partition_day("event_date=1970-01-02/category=payment/part-1.parquet"), Some(1));
        assert_eq!(partition_day("t/event_date=2026-11-25/category=receipt/p.parquet"), Some(20_782));
        assert_eq!(partition_day("category=payment/p.parquet"), None);
    }
}
