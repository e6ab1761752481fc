//! The exactly-once bookkeeping, pure: txn application ids and the split of a batch into rows to
//! write and duplicates to skip, given the offsets the table already records.

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
pub struct Plan {
    /// Rows to write, in input order.
    pub keep: Vec<Row>,
    /// Rows at or below the recorded offset of their partition, or repeated within the batch.
    pub skipped_duplicates: usize,
    /// New txn version (the highest kept offset) per topic-partition.
    pub txn_versions: BTreeMap<TopicPartition, i64>,
}

/// Splits `rows`: a row is a duplicate when its offset is `<=` the version recorded for its
/// topic-partition, or when the same `(topic, partition, offset)` came earlier in this batch.
pub fn plan(rows: Vec<Row>, recorded: &HashMap<TopicPartition, i64>) -> Plan {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(topic: &str, partition: i32, offset: i64) -> Row {
        Row { topic: topic.into(), partition, offset, event: serde_json::Value::Null }
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
    fn app_ids_are_per_topic_and_partition() {
        assert_eq!(txn_app_id("delta-main", "pix.pagamentos", 3), "delta-main-pix.pagamentos-3");
    }
}
