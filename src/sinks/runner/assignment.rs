//! Which partitions this sink's consumer holds, read only when it may have changed.
//!
//! The consume loops follow the group's assignment before every record (a rebalance must be seen
//! before the next record is taken, or a record of a revoked partition is written, see the revert
//! in 731e7fb). `Consumer::assignment` copies librdkafka's list and the loops built a set of
//! owned topic names from it for every record: about 3 % of a Delta sink's CPU (perf). The
//! consumer's context counts completed rebalances instead, and the list is read only when the
//! count moved, which keeps the per-record check and drops its cost to one atomic load.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::{ClientContext, TopicPartitionList};

/// A sink's consumer: a stream consumer that counts its rebalances.
pub(super) type SinkConsumer = StreamConsumer<Rebalances>;

/// The consumer context: the number of rebalances (assign, revoke or error) completed so far.
#[derive(Debug, Default)]
pub(super) struct Rebalances(AtomicU64);

impl ClientContext for Rebalances {}

impl ConsumerContext for Rebalances {
    // Called by rdkafka's rebalance handler after it applied the new assignment.
    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// The rebalance count at the last assignment read.
#[derive(Debug, Default)]
pub(super) struct AssignmentWatch {
    seen: Option<u64>,
}

impl AssignmentWatch {
    /// The consumer's assignment when a rebalance completed since the last read (always at the
    /// first call); `None` when nothing changed or the list cannot be read (tried again next time).
    pub(super) fn changed(&mut self, consumer: &SinkConsumer) -> Option<TopicPartitionList> {
        // The count is loaded before the list: a rebalance between the two is read again next time.
        let count = consumer.context().0.load(Ordering::Acquire);
        if self.seen == Some(count) {
            return None;
        }
        let assignment = consumer.assignment().ok()?;
        self.seen = Some(count);
        Some(assignment)
    }
}

/// The (topic, partition) pairs of an assignment, as both consume loops keep them.
pub(super) fn partitions(assignment: &TopicPartitionList) -> BTreeSet<(String, i32)> {
    assignment.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect()
}
