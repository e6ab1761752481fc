//! The bookkeeping of the streaming path: which offsets of each partition are still unfinished
//! (the commit window: a partition's offset moves only up to its lowest unfinished record), and
//! which records wait behind an earlier record of the same key (lanes: one key in order, keys
//! independent of each other). Pure data structures, no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// (topic, partition).
pub(super) type Tp = (String, i32);

#[derive(Debug)]
struct Partition {
    unfinished: BTreeSet<i64>,
    /// One past the highest offset consumed.
    next: i64,
    /// The offset last committed (`-1`: none yet by this window).
    committed: i64,
}

/// Per partition: the offsets consumed and not yet finished (delivered or dead-lettered).
#[derive(Debug, Default)]
pub(super) struct CommitWindow {
    parts: BTreeMap<Tp, Partition>,
}

impl CommitWindow {
    /// A record was consumed.
    pub(super) fn consumed(&mut self, topic: &str, partition: i32, offset: i64) {
        let p = self.parts.entry((topic.to_owned(), partition)).or_insert(Partition {
            unfinished: BTreeSet::new(),
            next: offset,
            committed: -1,
        });
        p.unfinished.insert(offset);
        p.next = p.next.max(offset + 1);
    }

    /// A record is finished: delivered, or durably dead-lettered.
    pub(super) fn finished(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.parts.get_mut(&(topic.to_owned(), partition)) {
            p.unfinished.remove(&offset);
        }
    }

    /// The offsets that may be committed now and were not yet: per partition, its lowest
    /// unfinished offset, or one past the highest consumed when all are finished.
    pub(super) fn due(&self) -> BTreeMap<Tp, i64> {
        self.parts
            .iter()
            .filter_map(|(tp, p)| {
                let at = p.unfinished.first().copied().unwrap_or(p.next);
                (at > p.committed).then(|| (tp.clone(), at))
            })
            .collect()
    }

    /// These offsets were committed.
    pub(super) fn committed(&mut self, offsets: &BTreeMap<Tp, i64>) {
        for (tp, at) in offsets {
            if let Some(p) = self.parts.get_mut(tp) {
                p.committed = p.committed.max(*at);
            }
        }
    }

    /// Keeps only the partitions still assigned; a revoked one's new owner re-delivers from the
    /// last commit.
    pub(super) fn retain(&mut self, assigned: &BTreeSet<Tp>) {
        self.parts.retain(|tp, _| assigned.contains(tp));
    }

    /// Records consumed and not finished, over every partition.
    pub(super) fn unfinished(&self) -> usize {
        self.parts.values().map(|p| p.unfinished.len()).sum()
    }
}

/// (topic, Kafka key): records of one lane are delivered one after the other, in offset order.
pub(super) type LaneKey = (String, Vec<u8>);

/// The lanes with a record in flight, and what waits behind it.
#[derive(Debug)]
pub(super) struct Lanes<T> {
    busy: HashMap<LaneKey, VecDeque<T>>,
    waiting: usize,
}

impl<T> Default for Lanes<T> {
    fn default() -> Self {
        Self { busy: HashMap::new(), waiting: 0 }
    }
}

impl<T> Lanes<T> {
    /// `Some(item)` when it may start now (its lane was idle, or it has no key); otherwise it
    /// waits behind its lane's earlier records.
    pub(super) fn admit(&mut self, key: Option<LaneKey>, item: T) -> Option<T> {
        let Some(key) = key else { return Some(item) };
        match self.busy.get_mut(&key) {
            Some(queue) => {
                queue.push_back(item);
                self.waiting += 1;
                None
            }
            None => {
                self.busy.insert(key, VecDeque::new());
                Some(item)
            }
        }
    }

    /// The lane's record in flight finished: its next record, which may start now.
    pub(super) fn done(&mut self, key: &LaneKey) -> Option<T> {
        let queue = self.busy.get_mut(key)?;
        match queue.pop_front() {
            Some(next) => {
                self.waiting -= 1;
                Some(next)
            }
            None => {
                self.busy.remove(key);
                None
            }
        }
    }

    /// Records waiting behind another of their key.
    pub(super) fn waiting(&self) -> usize {
        self.waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_never_passes_an_unfinished_record() {
        let mut w = CommitWindow::default();
        for o in 10..15 {
            w.consumed("t", 0, o);
        }
        w.consumed("t", 1, 3);
        assert_eq!(w.due(), BTreeMap::from([(("t".into(), 0), 10), (("t".into(), 1), 3)]));
        for o in [11, 12, 14] {
            w.finished("t", 0, o);
        }
        assert_eq!(w.due()[&("t".into(), 0)], 10, "10 is still in flight");
        w.committed(&w.due());
        assert!(w.due().is_empty(), "nothing moved since the commit");
        w.finished("t", 0, 10);
        assert_eq!(w.due()[&("t".into(), 0)], 13, "up to the next unfinished record");
        w.finished("t", 0, 13);
        w.finished("t", 1, 3);
        assert_eq!(w.due(), BTreeMap::from([(("t".into(), 0), 15), (("t".into(), 1), 4)]));
        assert_eq!(w.unfinished(), 0);
        w.retain(&BTreeSet::from([("t".into(), 1)]));
        assert_eq!(w.due().len(), 1, "a revoked partition is forgotten");
    }

    #[test]
    fn one_key_in_order_other_keys_independent() {
        let mut lanes = Lanes::default();
        let k = |s: &str| Some(("t".to_owned(), s.as_bytes().to_vec()));
        assert_eq!(lanes.admit(k("a"), 1), Some(1));
        assert_eq!(lanes.admit(k("a"), 2), None, "waits behind 1");
        assert_eq!(lanes.admit(k("b"), 3), Some(3), "another key does not wait");
        assert_eq!(lanes.admit(None, 4), Some(4), "no key, no order");
        assert_eq!(lanes.admit(k("a"), 5), None);
        assert_eq!(lanes.waiting(), 2);
        assert_eq!(lanes.done(&k("a").unwrap()), Some(2));
        assert_eq!(lanes.done(&k("a").unwrap()), Some(5));
        assert_eq!(lanes.done(&k("a").unwrap()), None);
        assert_eq!(lanes.admit(k("a"), 6), Some(6), "the lane was idle again");
        assert_eq!(lanes.waiting(), 0);
    }
}
