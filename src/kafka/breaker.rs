//! The cluster breaker: what the producers know about whether Kafka can be reached, so a source
//! can answer "unavailable" at once instead of holding a request for the whole delivery timeout.
//!
//! It opens when librdkafka reports that every broker is down (its error callback,
//! `AllBrokersDown`) or when a delivery times out, and closes at the first successful delivery,
//! or, when it opened because every broker was down, as soon as librdkafka's statistics show a
//! broker connected again. Once it has been open for [`PROBE_AFTER`], a source lets one request
//! through at a time (the probe), so a cluster that is back is noticed even without statistics.
//! Everything is an atomic; nothing here locks, and the producers report once per batch, not per
//! record.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::telemetry::metrics::Metrics;

/// How long an open breaker refuses every request before it lets a probe through.
pub const PROBE_AFTER: Duration = Duration::from_secs(5);

/// Why the breaker opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// librdkafka reported every broker down.
    AllBrokersDown,
    /// A delivery timed out.
    DeliveryTimeout,
}

/// Shared by the producers (which open and close it) and the sources (which ask it).
pub struct Breaker {
    open: AtomicBool,
    /// 1 all brokers down, 2 delivery timeout (meaningful while open).
    cause: AtomicU8,
    /// When it opened, in milliseconds since `epoch`.
    opened_at: AtomicU64,
    epoch: Instant,
    probing: AtomicBool,
    metrics: Arc<Metrics>,
}

/// What a source may do with a request.
#[derive(Debug)]
pub enum Admission<'a> {
    /// The cluster is reachable as far as the producers know.
    Pass,
    /// The breaker is open and this request is the one probe allowed through; the probe slot is
    /// free again when this is dropped.
    Probe(ProbeSlot<'a>),
    /// The breaker is open and a probe is already under way: answer "unavailable" now.
    Refuse,
}

/// The probe slot, held by the one request allowed through an open breaker.
#[derive(Debug)]
pub struct ProbeSlot<'a>(&'a AtomicBool);

impl Drop for ProbeSlot<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Breaker {
    /// A closed breaker whose state is mirrored in `pix_ingest_kafka_breaker_open`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        metrics.breaker_open.set(0);
        Self {
            open: AtomicBool::new(false),
            cause: AtomicU8::new(0),
            opened_at: AtomicU64::new(0),
            epoch: Instant::now(),
            probing: AtomicBool::new(false),
            metrics,
        }
    }

    /// Whether the producers currently believe the cluster is unreachable.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Asks to send a request's records.
    pub fn admit(&self) -> Admission<'_> {
        if !self.is_open() {
            return Admission::Pass;
        }
        let open_for = self.millis().saturating_sub(self.opened_at.load(Ordering::Acquire));
        if u128::from(open_for) < PROBE_AFTER.as_millis() {
            return Admission::Refuse;
        }
        match self.probing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Admission::Probe(ProbeSlot(&self.probing)),
            Err(_) => Admission::Refuse,
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The cluster is unreachable (all brokers down, or a delivery timed out).
    pub fn trip(&self, cause: Cause) {
        let why = match cause {
            Cause::AllBrokersDown => "all brokers down",
            Cause::DeliveryTimeout => "a delivery timed out",
        };
        self.cause.store(if cause == Cause::AllBrokersDown { 1 } else { 2 }, Ordering::Release);
        if !self.open.swap(true, Ordering::AcqRel) {
            self.opened_at.store(self.millis(), Ordering::Release);
            self.metrics.breaker_open.set(1);
            self.metrics.breaker_transitions.with_label_values(&["open"]).inc();
            tracing::warn!(why, "Kafka looks unreachable: sources answer 503 at once until a delivery succeeds.");
        }
    }

    /// librdkafka's statistics show a connected broker: closes a breaker that opened because every
    /// broker was down (one opened by timeouts waits for a delivery).
    pub fn broker_up(&self) {
        if self.is_open() && self.cause.load(Ordering::Acquire) == 1 {
            self.reset();
        }
    }

    /// A record was delivered: the cluster is reachable.
    pub fn reset(&self) {
        if self.open.swap(false, Ordering::AcqRel) {
            self.metrics.breaker_open.set(0);
            self.metrics.breaker_transitions.with_label_values(&["closed"]).inc();
            tracing::info!("Kafka delivered again: sources take requests again.");
        }
    }
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker").field("open", &self.is_open()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_lets_one_probe_through_and_closes_on_a_delivery() {
        let metrics = Arc::new(Metrics::new());
        let mut b = Breaker::new(Arc::clone(&metrics));
        assert!(matches!(b.admit(), Admission::Pass));
        b.trip(Cause::DeliveryTimeout);
        b.trip(Cause::DeliveryTimeout);
        assert_eq!(metrics.breaker_transitions.with_label_values(&["open"]).get(), 1);
        assert_eq!(metrics.breaker_open.get(), 1);
        assert!(matches!(b.admit(), Admission::Refuse), "no probe in the first seconds");
        b.broker_up();
        assert!(b.is_open(), "opened by a timeout: only a delivery closes it");
        b.opened_at.store(0, Ordering::Release);
        b.epoch = Instant::now() - PROBE_AFTER;
        let probe = b.admit();
        assert!(matches!(probe, Admission::Probe(_)));
        assert!(matches!(b.admit(), Admission::Refuse), "one probe at a time");
        drop(probe);
        assert!(matches!(b.admit(), Admission::Probe(_)), "the slot is free again");
        b.reset();
        assert!(matches!(b.admit(), Admission::Pass));
        assert_eq!(metrics.breaker_open.get(), 0);
        assert_eq!(metrics.breaker_transitions.with_label_values(&["closed"]).get(), 1);
        b.trip(Cause::AllBrokersDown);
        b.broker_up();
        assert!(!b.is_open(), "opened because every broker was down: a connected broker closes it");
    }
}
