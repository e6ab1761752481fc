//! The exactly-once bookkeeping, pure: txn application ids, the split of a batch into rows to
//! write and duplicates to skip, given the offsets the table already records, and what the table
//! was last seen to record ([`Known`]), so a write does not read it back from the log each time.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::row::Row;

/// A Kafka topic-partition.
pub type TopicPartition = (String, i32);

/// Txn application id of one topic-partition: `{app_id}-{topic}-{partition}`. Its txn version is
/// the last Kafka offset whose record is in the table.
pub fn txn_app_id(app_id: &str, topic: &str, partition: i32) -> String {
    format!("{app_id}-{topic}-{partition}")
}

/// What one [`crate::DeltaWriter::write`] call will do.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// Rows to write, in input order.
    pub keep: Vec<Row<'a>>,
    /// Rows at or below the recorded offset of their partition, or repeated within the batch.
    pub skipped_duplicates: usize,
    /// New txn version (the highest kept offset) per topic-partition.
    pub txn_versions: BTreeMap<TopicPartition, i64>,
}

/// Splits `rows`: a row is a duplicate when its offset is `<=` the version recorded for its
/// topic-partition, or when the same `(topic, partition, offset)` came earlier in this batch.
pub fn plan<'a>(rows: Vec<Row<'a>>, recorded: &HashMap<TopicPartition, i64>) -> Plan<'a> {
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    for row in rows {
        let tp = (row.topic.clone(), row.partition);
        let already = recorded.get(&tp).is_some_and(|&last| row.offset <= last);
        if already || !seen.insert((tp.clone(), row.offset)) {
            plan.skipped_duplicates += 1;
            continue;
        }
        let version = plan.txn_versions.entry(tp).or_insert(row.offset);
        *version = (*version).max(row.offset);
        plan.keep.push(row);
    }
    plan
}

/// The txn versions of the table as of one table version: what this writer read back or committed
/// itself. Reading a partition's txn version is a scan of the Delta log (the JSON commits since the
/// last checkpoint, and the checkpoint), once per partition per batch; remembering them is exact
/// as long as the table version is the one they are known at: any commit this writer did not make
/// (another instance after a rebalance, a racing writer) moves the version and drops them all.
#[derive(Debug, Default)]
pub(crate) struct Known {
    at: Option<u64>,
    offsets: HashMap<TopicPartition, Option<i64>>,
}

impl Known {
    /// The recorded offset of `tp` (`Some(None)`: the table has none) when known at `version`.
    pub(crate) fn get(&self, version: Option<u64>, tp: &TopicPartition) -> Option<Option<i64>> {
        if self.at.is_some() && self.at == version { self.offsets.get(tp).copied() } else { None }
    }

    /// The table at `version` records `offset` for `tp`.
    pub(crate) fn learn(&mut self, version: Option<u64>, tp: &TopicPartition, offset: Option<i64>) {
        if self.at != version {
            self.offsets.clear();
            self.at = version;
        }
        self.offsets.insert(tp.clone(), offset);
    }

    /// This writer committed `versions` as table version `after`, on top of `before`: still exact
    /// only when nothing else landed in between (`after == before + 1`).
    pub(crate) fn committed(&mut self, before: Option<u64>, after: u64, versions: &BTreeMap<TopicPartition, i64>) {
        if self.at.is_none() || self.at != before || before.map(|b| b + 1) != Some(after) {
            *self = Self::default();
            return;
        }
        self.at = Some(after);
        for (tp, offset) in versions {
            self.offsets.insert(tp.clone(), Some(*offset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(topic: &str, partition: i32, offset: i64) -> Row<'static> {
        Row { topic: topic.into(), partition, offset, event: crate::Json::Null }
    }

    #[test]
    fn drops_recorded_and_repeated_offsets_and_records_the_max() {
        let recorded = HashMap::from([(("t".to_owned(), 0), 5)]);
        let rows = vec![row("t", 0, 4), row("t", 0, 5), row("t", 0, 7), row("t", 0, 6), row("t", 1, 0), row("t", 0, 7)];
        let plan = plan(rows, &recorded);
        let kept: Vec<_> = plan.keep.iter().map(|r| (r.partition, r.offset)).collect();
        assert_eq!(kept, vec![(0, 7), (0, 6), (1, 0)]);
        assert_eq!(plan.skipped_duplicates, 3);
        assert_eq!(plan.txn_versions, BTreeMap::from([(("t".to_owned(), 0), 7), (("t".to_owned(), 1), 0)]));
    }

    #[test]
    fn known_offsets_hold_only_while_the_table_version_is_theirs() {
        let (tp, other) = (("t".to_owned(), 0), ("t".to_owned(), 1));
        let mut known = Known::default();
        assert_eq!(known.get(Some(3), &tp), None);
        known.learn(Some(3), &tp, Some(9));
        known.learn(Some(3), &other, None);
        assert_eq!((known.get(Some(3), &tp), known.get(Some(3), &other)), (Some(Some(9)), Some(None)));
        assert_eq!(known.get(Some(4), &tp), None, "another commit landed");
        known.committed(Some(3), 4, &BTreeMap::from([(tp.clone(), 12)]));
        assert_eq!((known.get(Some(4), &tp), known.get(Some(4), &other)), (Some(Some(12)), Some(None)));
        known.committed(Some(4), 6, &BTreeMap::from([(tp.clone(), 20)]));
        assert_eq!(known.get(Some(6), &tp), None, "a commit of another writer came between");
        known.learn(Some(6), &tp, Some(20));
        assert_eq!(known.get(Some(6), &other), None, "learnt at another version: unknown");
    }

    #[test]
    fn app_ids_are_per_topic_and_partition() {
        assert_eq!(txn_app_id("delta-main", "pix.pagamentos", 3), "delta-main-pix.pagamentos-3");
    }
}
