//! The index of acknowledged events of this instance: (category, event id) -> where Kafka put it,
//! so a retried record is answered `duplicate` with its original coordinates instead of being
//! produced again. Bounded in entries and in age (`duplicates:` in the config), consulted and
//! filled under one lock per submission, never per record.
//!
//! Best effort by design: it is per process, forgets on restart, and two copies in flight at the
//! same moment both pass. The guarantee that each event id is stored once lives downstream (the
//! Delta sink and the dedupe stage); this only tells a retrying client the truth cheaply.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::kafka::Produced;

/// `duplicates:` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DuplicatesConfig {
    /// How long an acknowledged event id answers `duplicate`; `0s` turns the index off.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
    /// Most event ids held (the oldest go first); about 115 bytes each.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
}

fn default_window() -> Duration {
    Duration::from_secs(3600)
}
const fn default_max_entries() -> usize {
    500_000
}

impl Default for DuplicatesConfig {
    fn default() -> Self {
        Self { window: default_window(), max_entries: default_max_entries() }
    }
}

/// The compact key of one (category, event id): 128 bits from two independently keyed hashes,
/// so a false "duplicate" (which would drop a genuine event) is as likely as guessing a 128-bit
/// secret.
pub type Key = [u64; 2];

/// The index.
pub struct AckIndex {
    cfg: DuplicatesConfig,
    hashers: [std::collections::hash_map::RandomState; 2],
    started: Instant,
    inner: Mutex<Inner>,
    metrics: Option<Arc<crate::telemetry::metrics::Metrics>>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    /// Keys in acknowledgement order with their time, for eviction by age and by count.
    order: VecDeque<(Key, u32)>,
    /// The topic names seen (a handful), so an entry stores one byte for its topic.
    topics: Vec<Arc<str>>,
}

#[derive(Clone, Copy)]
struct Entry {
    topic: u8,
    partition: i32,
    offset: i64,
    at: u32,
}

impl AckIndex {
    /// An empty index; `metrics` gets the `pix_ingest_dedupe_index_entries{owner="http"}` gauge.
    pub fn new(cfg: DuplicatesConfig, metrics: Option<Arc<crate::telemetry::metrics::Metrics>>) -> Self {
        Self { cfg, hashers: Default::default(), started: Instant::now(), inner: Mutex::default(), metrics }
    }

    /// Whether the index is on.
    pub fn enabled(&self) -> bool {
        !self.cfg.window.is_zero() && self.cfg.max_entries > 0
    }

    /// The key of one event.
    pub fn key(&self, category: &str, event_id: &str) -> Key {
        let [a, b] = &self.hashers;
        [a.hash_one((category, event_id)), b.hash_one((category, event_id))]
    }

    fn now(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Where each key was acknowledged within the window, if it was (one lock for all).
    pub fn lookup(&self, keys: &[Key]) -> Vec<Option<Produced>> {
        if !self.enabled() || keys.is_empty() {
            return vec![None; keys.len()];
        }
        let now = self.now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        self.evict(&mut inner, now);
        keys.iter()
            .map(|k| {
                inner.map.get(k).map(|e| Produced {
                    topic: inner.topics.get(usize::from(e.topic)).map_or_else(String::new, |t| t.to_string()),
                    partition: e.partition,
                    offset: e.offset,
                })
            })
            .collect()
    }

    /// Records acknowledged events (one lock for all).
    pub fn record<'a>(&self, acked: impl IntoIterator<Item = (Key, &'a Produced)>) {
        if !self.enabled() {
            return;
        }
        let now = self.now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, p) in acked {
            let topic = match inner.topics.iter().position(|t| **t == *p.topic) {
                Some(i) => i,
                None => {
                    inner.topics.push(Arc::from(p.topic.as_str()));
                    inner.topics.len() - 1
                }
            };
            let Ok(topic) = u8::try_from(topic) else { continue };
            inner.map.insert(key, Entry { topic, partition: p.partition, offset: p.offset, at: now });
            inner.order.push_back((key, now));
        }
        self.evict(&mut inner, now);
        if let Some(m) = &self.metrics {
            m.dedupe_entries.with_label_values(&["http"]).set(i64::try_from(inner.map.len()).unwrap_or(i64::MAX));
        }
    }

    /// Drops what is older than the window, then the oldest past `max_entries`.
    fn evict(&self, inner: &mut Inner, now: u32) {
        let window = u32::try_from(self.cfg.window.as_secs()).unwrap_or(u32::MAX);
        while let Some(&(key, at)) = inner.order.front() {
            let expired = now.saturating_sub(at) >= window.max(1) && !self.cfg.window.is_zero();
            if !expired && inner.map.len() <= self.cfg.max_entries && inner.order.len() <= 2 * self.cfg.max_entries {
                break;
            }
            inner.order.pop_front();
            // A key acknowledged again later has a newer slot in `order`: keep its entry.
            if inner.map.get(&key).is_some_and(|e| e.at == at) {
                inner.map.remove(&key);
            }
        }
    }

    /// Entries held (tests, benchmarks).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: i64) -> Produced {
        Produced { topic: "pix.pagamentos".into(), partition: 2, offset }
    }

    #[test]
    fn an_acknowledged_id_answers_with_its_coordinates_per_category() {
        let idx = AckIndex::new(DuplicatesConfig::default(), None);
        let (pay, rec) = (idx.key("payment", "E1:TRANSFER:PENDING"), idx.key("receipt", "E1:TRANSFER:PENDING"));
        assert_ne!(pay, rec, "the two copies of an intra-PSP transfer are different records");
        assert_eq!(idx.lookup(&[pay, rec]), vec![None, None]);
        idx.record([(pay, &at(41))]);
        assert_eq!(idx.lookup(&[pay, rec]), vec![Some(at(41)), None]);
    }

    #[test]
    fn bounded_by_count_oldest_first_and_off_at_zero() {
        let idx = AckIndex::new(DuplicatesConfig { window: Duration::from_secs(60), max_entries: 3 }, None);
        let keys: Vec<Key> = (0..5).map(|i| idx.key("payment", &format!("E{i}"))).collect();
        let produced: Vec<Produced> = (0..5).map(at).collect();
        idx.record(keys.iter().copied().zip(&produced));
        assert_eq!(idx.len(), 3);
        let found = idx.lookup(&keys);
        assert_eq!(found.iter().filter(|f| f.is_some()).count(), 3);
        assert!(found[0].is_none() && found[1].is_none() && found[4] == Some(at(4)));

        let off = AckIndex::new(DuplicatesConfig { window: Duration::ZERO, max_entries: 3 }, None);
        off.record([(keys[0], &produced[0])]);
        assert_eq!((off.len(), off.lookup(&keys[..1])), (0, vec![None]));
    }

    /// The README's figure: resident memory per entry (`cargo test --lib acked -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a check; scripts/bench runs it"]
    fn memory_per_million_acknowledged_events() {
        let rss = || {
            let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
            statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
        };
        let n = 1_000_000;
        let idx = AckIndex::new(DuplicatesConfig { window: Duration::from_secs(3600), max_entries: n }, None);
        let produced: Vec<Produced> = (0..4).map(at).collect();
        let before = rss();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let keys: Vec<Key> =
                chunk.iter().map(|i| idx.key("payment", &format!("E{i:031}:TRANSFER:PENDING"))).collect();
            idx.record(keys.iter().map(|k| (*k, &produced[(k[0] % 4) as usize])));
        }
        let grown = rss().saturating_sub(before);
        println!(
            "AckIndex: {} entries, {:.1} MB resident, {:.0} bytes per entry",
            idx.len(),
            grown as f64 / 1e6,
            grown as f64 / n as f64
        );
        assert_eq!(idx.len(), n);
    }
}
