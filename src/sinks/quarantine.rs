//! Poison-pill protection: a record that crashes a sink every time it is written is quarantined to
//! the dead-letter topic (with its coordinates) so the sink can move on, instead of crash-looping
//! until it is marked FAILED.
//!
//! The log outlives a sink's incarnations (it lives in the app's shared deps). Before a write the
//! runner records the coordinates in flight; a successful write clears them. Coordinates still
//! recorded when the next incarnation starts belong to a write that crashed. That next batch is
//! then written one record at a time, so the next crash names exactly one record; a record named
//! `QUARANTINE_AFTER` times is dead-lettered (`sink.quarantined`) and skipped.

use std::collections::HashMap;
use std::sync::Mutex;

/// Crashes on one record before it is quarantined.
pub const QUARANTINE_AFTER: u32 = 2;

/// (topic, partition, offset).
pub type Coord = (String, i32, i64);

#[derive(Default)]
struct SinkLog {
    in_flight: Option<Vec<Coord>>,
    crashes: HashMap<Coord, u32>,
}

/// Crash bookkeeping of every sink, shared across restarts.
#[derive(Default)]
pub struct CrashLog {
    sinks: Mutex<HashMap<String, SinkLog>>,
}

/// How the runner should write the next batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole batch at once.
    Batch,
    /// One record at a time (a previous write crashed).
    Isolate,
}

impl CrashLog {
    fn with<T>(&self, sink: &str, f: impl FnOnce(&mut SinkLog) -> T) -> T {
        let mut all = match self.sinks.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(all.entry(sink.to_owned()).or_default())
    }

    /// Called before a batch: how to write it, given what a crashed incarnation left behind.
    pub fn mode(&self, sink: &str) -> Mode {
        self.with(sink, |log| match log.in_flight.take() {
            None => Mode::Batch,
            Some(crashed) => {
                if let [one] = crashed.as_slice() {
                    *log.crashes.entry(one.clone()).or_default() += 1;
                }
                Mode::Isolate
            }
        })
    }

    /// Whether this record crashed the sink often enough to be quarantined.
    pub fn is_poison(&self, sink: &str, coord: &Coord) -> bool {
        self.with(sink, |log| log.crashes.get(coord).copied().unwrap_or(0) >= QUARANTINE_AFTER)
    }

    /// Records what is being written now.
    pub fn begin(&self, sink: &str, coords: Vec<Coord>) {
        self.with(sink, |log| log.in_flight = Some(coords));
    }

    /// The write returned: nothing in flight any more.
    pub fn end(&self, sink: &str) {
        self.with(sink, |log| log.in_flight = None);
    }

    /// A quarantined record was dead-lettered: forget it.
    pub fn forget(&self, sink: &str, coord: &Coord) {
        self.with(sink, |log| {
            log.crashes.remove(coord);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_keeps_crashing_is_named_then_quarantined() {
        let log = CrashLog::default();
        let a: Coord = ("t".into(), 0, 1);
        let b: Coord = ("t".into(), 0, 2);
        assert_eq!(log.mode("s"), Mode::Batch);
        log.begin("s", vec![a.clone(), b.clone()]); // crash: batch left in flight
        assert_eq!(log.mode("s"), Mode::Isolate, "after a crash, one record at a time");
        log.begin("s", vec![a.clone()]);
        log.end("s"); // a is fine
        log.begin("s", vec![b.clone()]); // crash on b
        assert_eq!(log.mode("s"), Mode::Isolate);
        assert!(!log.is_poison("s", &b));
        log.begin("s", vec![b.clone()]); // crash on b again
        assert_eq!(log.mode("s"), Mode::Isolate);
        assert!(log.is_poison("s", &b));
        assert!(!log.is_poison("s", &a));
        log.forget("s", &b);
        assert_eq!(log.mode("s"), Mode::Batch);
    }
}
