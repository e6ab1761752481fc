//! Batch thresholds of a sink: a batch is written when it has `max_events` records, `max_bytes`
//! of payload, or its first record is `max_age` old — whichever comes first.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// `batch:` of a sink.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Most records per batch.
    #[serde(default = "default_max_events")]
    pub max_events: usize,
    /// Most payload bytes per batch.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Longest a record waits in a batch.
    #[serde(default = "default_max_age", with = "humantime_serde")]
    pub max_age: Duration,
}

const fn default_max_events() -> usize {
    500
}
const fn default_max_bytes() -> usize {
    4 * 1024 * 1024
}
const fn default_max_age() -> Duration {
    Duration::from_secs(1)
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self { max_events: default_max_events(), max_bytes: default_max_bytes(), max_age: default_max_age() }
    }
}

impl BatchConfig {
    /// Field problems.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.max_events == 0 {
            out.push(("batch.max_events", "expected a positive number".into()));
        }
        if self.max_bytes == 0 {
            out.push(("batch.max_bytes", "expected a positive number".into()));
        }
        out
    }
}

/// Tracks the open batch against the thresholds (pure; the clock is passed in).
#[derive(Debug)]
pub struct Batcher {
    cfg: BatchConfig,
    count: usize,
    bytes: usize,
    opened: Option<Instant>,
}

impl Batcher {
    /// An empty batcher.
    pub fn new(cfg: BatchConfig) -> Self {
        Self { cfg, count: 0, bytes: 0, opened: None }
    }

    /// Records one more record of `bytes` at `now`.
    pub fn add(&mut self, bytes: usize, now: Instant) {
        self.opened.get_or_insert(now);
        self.count += 1;
        self.bytes += bytes;
    }

    /// Whether the batch must be written now.
    pub fn is_full(&self, now: Instant) -> bool {
        self.count >= self.cfg.max_events
            || self.bytes >= self.cfg.max_bytes
            || self.opened.is_some_and(|t| now.duration_since(t) >= self.cfg.max_age)
    }

    /// How long until the age threshold, if a batch is open.
    pub fn time_left(&self, now: Instant) -> Option<Duration> {
        self.opened.map(|t| self.cfg.max_age.saturating_sub(now.duration_since(t)))
    }

    /// Starts a new batch.
    pub fn reset(&mut self) {
        self.count = 0;
        self.bytes = 0;
        self.opened = None;
    }

    /// Records in the open batch.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BatchConfig {
        BatchConfig { max_events: 3, max_bytes: 100, max_age: Duration::from_secs(2) }
    }

    #[test]
    fn full_by_count_bytes_or_age() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg());
        assert!(!b.is_full(t0) && b.time_left(t0).is_none());
        b.add(10, t0);
        b.add(10, t0);
        assert!(!b.is_full(t0));
        b.add(10, t0);
        assert!(b.is_full(t0), "by count");
        b.reset();
        b.add(150, t0);
        assert!(b.is_full(t0), "by bytes");
        b.reset();
        b.add(1, t0);
        assert_eq!(b.time_left(t0 + Duration::from_millis(500)), Some(Duration::from_millis(1500)));
        assert!(!b.is_full(t0 + Duration::from_millis(1999)));
        assert!(b.is_full(t0 + Duration::from_secs(2)), "by age");
    }
}
