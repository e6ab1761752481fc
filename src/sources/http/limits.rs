//! The bound on records in flight in one HTTP source (`max_in_flight_records`): a request whose
//! records would take the source past it is answered 429 at once instead of queueing, so an
//! overload shows up at the client as "slow down" while the records already taken are answered.
//! One atomic per request; nothing here waits or locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::telemetry::metrics::Metrics;

/// Records in flight in one source.
pub struct InFlight {
    max: usize,
    now: AtomicUsize,
    source: Arc<str>,
    metrics: Arc<Metrics>,
}

/// Records of one request, counted in flight until dropped.
pub struct Permit<'a> {
    of: &'a InFlight,
    n: usize,
}

impl InFlight {
    /// A bound of `max` records for `source`.
    pub fn new(max: usize, source: Arc<str>, metrics: Arc<Metrics>) -> Self {
        Self { max, now: AtomicUsize::new(0), source, metrics }
    }

    /// Whether the source is already at its bound (checked before a body is read).
    pub fn full(&self) -> bool {
        self.now.load(Ordering::Acquire) >= self.max
    }

    /// Takes `n` records in, or `None` when that would pass the bound. A request larger than the
    /// bound on its own is taken when nothing else is in flight, so it cannot starve.
    pub fn try_take(&self, n: usize) -> Option<Permit<'_>> {
        let mut cur = self.now.load(Ordering::Acquire);
        loop {
            if cur > 0 && cur.saturating_add(n) > self.max {
                return None;
            }
            match self.now.compare_exchange_weak(cur, cur + n, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.gauge(cur + n);
                    return Some(Permit { of: self, n });
                }
                Err(seen) => cur = seen,
            }
        }
    }

    fn gauge(&self, n: usize) {
        self.metrics.in_flight.with_label_values(&[&self.source]).set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let before = self.of.now.fetch_sub(self.n, Ordering::AcqRel);
        self.of.gauge(before.saturating_sub(self.n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_the_bound_and_gives_back_on_drop() {
        let f = InFlight::new(10, Arc::from("api"), Arc::default());
        let a = f.try_take(6).unwrap();
        assert!(f.try_take(5).is_none(), "6 + 5 > 10");
        let b = f.try_take(4).unwrap();
        assert!(f.full());
        drop(a);
        assert!(!f.full());
        drop(b);
        let alone = f.try_take(50);
        assert!(alone.is_some(), "a request over the bound passes alone");
        assert!(f.try_take(1).is_none());
    }
}
