//! What running actors say about their own health between crashes: a sink whose writes keep
//! failing is still running (it retries, nothing is lost or skipped) but its destination is not
//! taking data. The sink's retry loop reports each failure here and the end of a successful
//! batch clears it; the supervisor reads it to show the actor DEGRADED, with the error and since
//! when, in `/api/v1/actors` and `pix_ingest_actor_state`. It lives with the metrics because
//! every actor already holds them, so no actor needs to know the supervisor. It also holds the
//! instance's drain flag, which every listener's `/readyz` reads.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A failing actor's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    /// The last error.
    pub error: String,
    /// When it was reported.
    pub at: DateTime<Utc>,
    /// The first failure of this run of failures.
    pub since: DateTime<Utc>,
}

/// The board of actors currently failing, by actor id.
#[derive(Debug, Default)]
pub struct Health {
    failing: Mutex<HashMap<String, Failing>>,
    /// The instance is shutting down: every readiness answers 503 while listeners still serve.
    draining: std::sync::atomic::AtomicBool,
}

impl Health {
    fn board(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failing>> {
        match self.failing.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Actor `id` failed to do its work (and will retry).
    pub fn failing(&self, id: &str, error: impl Into<String>) {
        let now = Utc::now();
        let mut b = self.board();
        let since = b.get(id).map_or(now, |f| f.since);
        b.insert(id.to_owned(), Failing { error: error.into(), at: now, since });
    }

    /// Actor `id` did its work again (or was stopped, restarted or removed).
    pub fn recovered(&self, id: &str) {
        self.board().remove(id);
    }

    /// The instance starts its drain (SIGTERM): readiness drops everywhere.
    pub fn start_draining(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the instance is draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether and how actor `id` is failing.
    pub fn of(&self, id: &str) -> Option<Failing> {
        self.board().get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_failures_keeps_its_start_and_a_success_clears_it() {
        let h = Health::default();
        assert_eq!(h.of("s"), None);
        h.failing("s", "connection refused");
        let first = h.of("s").unwrap();
        h.failing("s", "timed out");
        let second = h.of("s").unwrap();
        assert_eq!((second.error.as_str(), second.since), ("timed out", first.since));
        h.recovered("s");
        assert_eq!(h.of("s"), None);
    }
}
