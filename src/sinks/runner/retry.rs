//! Backoff between retries of a failing write, flush or dead-letter publish.
//!
//! A transient failure is retried until it succeeds; the only way out is a stop request (then
//! nothing is committed and the batch is re-delivered later), so no record is ever skipped.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::lifecycle::task::{RunSignal, TaskEnd, is_stopping};
use crate::telemetry::metrics::Metrics;

/// The delays between attempts: 100 ms doubling to 10 s, with jitter, without end.
pub(super) fn delays() -> backon::ExponentialBackoff {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build()
}

/// Retries of one batch.
pub(super) struct Retrier<'a> {
    id: &'a str,
    metrics: &'a Metrics,
    stop: &'a RunSignal,
    delays: backon::ExponentialBackoff,
}

impl<'a> Retrier<'a> {
    pub(super) fn new(id: &'a str, metrics: &'a Metrics, stop: &'a RunSignal) -> Self {
        Self { id, metrics, stop, delays: delays() }
    }

    /// Waits before the next attempt; `Err` when the sink must stop instead.
    pub(super) async fn failed(&mut self, what: &str, error: impl std::fmt::Display) -> Result<(), TaskEnd> {
        self.metrics.sink_retries.with_label_values(&[self.id]).inc();
        self.metrics.health.failing(self.id, format!("{what} failed: {error}"));
        if is_stopping(self.stop) {
            tracing::warn!(sink = %self.id, %error, "Stopping while the {what} still fails; the batch will be re-delivered.");
            return Err(TaskEnd::Stopped);
        }
        let delay = self.delays.next().unwrap_or(Duration::from_secs(10));
        tracing::warn!(sink = %self.id, %error, ?delay, "Sink {what} failed; retrying.");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}
