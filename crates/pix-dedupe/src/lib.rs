//! Which copies of a Pix event are the same event, remembered within a window: an index of the
//! event ids each Kafka partition already delivered downstream, grouped by event date so that a
//! whole day is forgotten at once when it leaves the window.
//!
//! Pure and synchronous, no I/O: its owners (the Delta sink in `pix-delta`, the dedupe stage in
//! the service) rebuild a partition's ids from their own durable state when the partition is
//! assigned, ask [`SeenIds::contains`] before writing, and [`SeenIds::insert`] what they durably
//! wrote.
//!
//! Why per partition: every copy of an event lands in the same partition of its topic (the key is
//! the endToEndId, the payer account or the event id), and a topic holds one category, so the
//! index of one (topic, partition) decides alone, and its state moves with the partition between
//! instances. The two events of an intra-PSP transfer share an event id but live in two topics:
//! they are never compared with each other.
//!
//! Memory: an id is a 128-bit digest (two independently keyed SipHash values; a false "seen",
//! which would drop a genuine event, is as likely as guessing a 128-bit key) in a hash set per
//! day, about 20 to 35 bytes per id depending on the set's load (measured by `scripts/bench`).

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

/// The digest of one event id.
pub type Key = [u64; 2];

/// Days since 1970-01-01 (UTC) of an event's `event_time`.
pub type Day = i32;

/// The ids of one partition, by day.
#[derive(Debug, Default)]
struct Part {
    days: BTreeMap<Day, HashSet<Key>>,
    len: usize,
    /// The owner's position in its durable state that these ids reflect (the Delta txn version,
    /// a changelog offset): when the state has moved past it without us, the ids are stale.
    synced: Option<i64>,
}

/// The index of every partition an owner holds, `P` naming a partition (e.g. `(topic, partition)`).
#[derive(Debug)]
pub struct SeenIds<P> {
    window_days: Day,
    max_ids: usize,
    hashers: [RandomState; 2],
    parts: HashMap<P, Part>,
    len: usize,
    /// Ids dropped before their day left the window because of `max_ids`.
    evicted_early: u64,
}

impl<P: Hash + Eq + Clone> SeenIds<P> {
    /// An empty index remembering `window_days` days back from the newest day it is told about
    /// (`today`), at most `max_ids` ids in all (the oldest day goes first past that).
    pub fn new(window_days: u32, max_ids: usize) -> Self {
        Self {
            window_days: Day::try_from(window_days).unwrap_or(Day::MAX),
            max_ids,
            hashers: [RandomState::new(), RandomState::new()],
            parts: HashMap::new(),
            len: 0,
            evicted_early: 0,
        }
    }

    /// The digest of `event_id` in this index.
    pub fn key(&self, event_id: &str) -> Key {
        let [a, b] = &self.hashers;
        [a.hash_one(event_id), b.hash_one(event_id)]
    }

    /// The first day still inside the window on `today`: ids of earlier days are forgotten, and
    /// an event of an earlier day is not de-duplicated.
    pub fn first_day(&self, today: Day) -> Day {
        today.saturating_sub(self.window_days)
    }

    /// Whether `part` has been loaded (and not forgotten since).
    pub fn is_loaded(&self, part: &P) -> bool {
        self.parts.contains_key(part)
    }

    /// The durable position `part`'s ids reflect, when loaded.
    pub fn synced(&self, part: &P) -> Option<i64> {
        self.parts.get(part).and_then(|p| p.synced)
    }

    /// Records that `part`'s ids reflect its durable state at `position`.
    pub fn set_synced(&mut self, part: &P, position: Option<i64>) {
        if let Some(p) = self.parts.get_mut(part) {
            p.synced = position;
        }
    }

    /// Replaces `part`'s ids with `ids` (rebuilt from the durable state at `position`).
    pub fn load(&mut self, part: P, ids: impl IntoIterator<Item = (Key, Day)>, position: Option<i64>) {
        self.forget(&part);
        let mut fresh = Part { synced: position, ..Part::default() };
        for (key, day) in ids {
            if fresh.days.entry(day).or_default().insert(key) {
                fresh.len += 1;
            }
        }
        self.len += fresh.len;
        self.parts.insert(part, fresh);
        self.bound();
    }

    /// Drops `part` (revoked: another instance owns it now).
    pub fn forget(&mut self, part: &P) {
        if let Some(p) = self.parts.remove(part) {
            self.len -= p.len;
        }
    }

    /// Whether `part` already holds `key` (a copy on any day inside the window).
    pub fn contains(&self, part: &P, key: &Key) -> bool {
        self.parts.get(part).is_some_and(|p| p.days.values().any(|ids| ids.contains(key)))
    }

    /// Remembers `key` as written to `part` for an event of `day`; `false` if it already was.
    pub fn insert(&mut self, part: &P, key: Key, day: Day) -> bool {
        let Some(p) = self.parts.get_mut(part) else { return false };
        if p.days.values().any(|ids| ids.contains(&key)) {
            return false;
        }
        p.days.entry(day).or_default().insert(key);
        p.len += 1;
        self.len += 1;
        self.bound();
        true
    }

    /// Forgets every day before the window of `today`.
    pub fn expire(&mut self, today: Day) {
        let first = self.first_day(today);
        for p in self.parts.values_mut() {
            while let Some(entry) = p.days.first_entry() {
                if *entry.key() >= first {
                    break;
                }
                let n = entry.remove().len();
                p.len -= n;
                self.len -= n;
            }
        }
    }

    /// Ids held, all partitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ids dropped early to stay under `max_ids` (each one a copy that could pass again).
    pub fn evicted_early(&self) -> u64 {
        self.evicted_early
    }

    /// Past `max_ids`, drops the oldest day of the partition holding the oldest one.
    fn bound(&mut self) {
        while self.len > self.max_ids {
            let oldest = self
                .parts
                .iter()
                .filter_map(|(k, p)| p.days.keys().next().map(|d| (*d, k.clone())))
                .min_by_key(|(d, _)| *d);
            let Some((_, part)) = oldest else { return };
            let Some(p) = self.parts.get_mut(&part) else { return };
            let Some(entry) = p.days.first_entry() else { return };
            let n = entry.remove().len();
            p.len -= n;
            self.len -= n;
            self.evicted_early += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    type Tp = (&'static str, i32);
    const P0: Tp = ("pix.pagamentos", 0);
    const P1: Tp = ("pix.pagamentos", 1);

    #[test]
    fn a_partition_remembers_its_ids_and_no_other_partition_sees_them() {
        let mut ids: SeenIds<Tp> = SeenIds::new(7, 1_000);
        let k = ids.key("E1:TRANSFER:PENDING");
        assert_ne!(k, ids.key("E1:TRANSFER:SETTLED"));
        ids.load(P0, [], Some(-1));
        assert!(!ids.insert(&P1, k, 100), "P1 is not loaded: nothing to insert into");
        assert!(ids.insert(&P0, k, 100));
        assert!(!ids.insert(&P0, k, 101), "a copy on another day is the same event");
        assert!(ids.contains(&P0, &k) && !ids.contains(&P1, &k));
        assert_eq!(ids.len(), 1);
        ids.forget(&P0);
        assert!(!ids.is_loaded(&P0) && ids.is_empty());
    }

    #[test]
    fn days_leave_the_window_whole() {
        let mut ids: SeenIds<Tp> = SeenIds::new(7, 1_000);
        let (old, new) = (ids.key("old"), ids.key("new"));
        ids.load(P0, [(old, 100), (new, 107)], Some(5));
        assert_eq!(ids.synced(&P0), Some(5));
        ids.expire(107);
        assert!(ids.contains(&P0, &old), "day 100 is inside the 7 days before 107");
        ids.expire(108);
        assert!(!ids.contains(&P0, &old) && ids.contains(&P0, &new));
        assert_eq!((ids.len(), ids.first_day(108)), (1, 101));
    }

    #[test]
    fn past_max_ids_the_oldest_day_goes_first_and_is_counted() {
        let mut ids: SeenIds<Tp> = SeenIds::new(30, 3);
        ids.load(P0, [(ids.key("a"), 1), (ids.key("b"), 1)], None);
        ids.load(P1, [(ids.key("c"), 2)], None);
        assert!(ids.insert(&P1, ids.key("d"), 3));
        assert_eq!((ids.len(), ids.evicted_early()), (2, 2));
        assert!(!ids.contains(&P0, &ids.key("a")) && ids.contains(&P1, &ids.key("d")));
    }
}
