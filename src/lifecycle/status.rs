//! The status a pipeline actor (router, dead-letter actor) shares with the supervisor's registry.
//!
//! These actors run under actix's own `Supervisor`, so their addresses stay valid across
//! restarts and nothing has to re-wire the sources; they record their restarts and last error
//! here, and the registry shows them next to the sources and sinks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use chrono::{DateTime, Utc};

/// Shared, lock-light status of one pipeline actor.
#[derive(Debug, Default)]
pub struct ActorStatus {
    restarts: AtomicU32,
    /// Between a restart and a producer that works again.
    restarting: AtomicBool,
    last_error: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl ActorStatus {
    /// The actor is restarting because of `why`.
    pub fn restarting(&self, why: &str) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
        self.restarting.store(true, Ordering::Relaxed);
        self.error(why);
    }

    /// The actor failed to do something (it keeps running or restarts).
    pub fn error(&self, why: &str) {
        let mut g = match self.last_error.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = Some((why.to_owned(), Utc::now()));
    }

    /// The actor is up again.
    pub fn up(&self) {
        self.restarting.store(false, Ordering::Relaxed);
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Whether it is between a restart and being up.
    pub fn is_restarting(&self) -> bool {
        self.restarting.load(Ordering::Relaxed)
    }

    /// The last error and when.
    pub fn last_error(&self) -> Option<(String, DateTime<Utc>)> {
        match self.last_error.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}
