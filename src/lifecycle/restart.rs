//! Restart policy: exponential backoff with jitter (backon) and a restart budget per window, and
//! the `supervision:` config section that sets them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use serde::{Deserialize, Serialize};

/// `supervision:` — how a crashed actor is restarted.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    /// First restart delay.
    #[serde(default = "default_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Largest restart delay.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// More restarts than this within `window` marks the actor FAILED.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// The window for `max_restarts`.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
}

const fn default_backoff_initial() -> Duration {
    Duration::from_millis(100)
}
const fn default_backoff_max() -> Duration {
    Duration::from_secs(30)
}
const fn default_max_restarts() -> u32 {
    10
}
const fn default_window() -> Duration {
    Duration::from_secs(60)
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        Self {
            backoff_initial: default_backoff_initial(),
            backoff_max: default_backoff_max(),
            max_restarts: default_max_restarts(),
            window: default_window(),
        }
    }
}

impl SupervisionConfig {
    /// Field problems, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.backoff_initial > self.backoff_max {
            out.push(("backoff_initial", "expected at most supervision.backoff_max".into()));
        }
        if self.max_restarts == 0 {
            out.push(("max_restarts", "expected at least 1".into()));
        }
        out
    }
}

/// Tracks the restarts of one child and tells how long to wait before the next start.
#[derive(Debug)]
pub struct RestartDelay {
    policy: SupervisionConfig,
    backoff: ExponentialBackoff,
    /// Restart instants inside the window, oldest first.
    recent: VecDeque<Instant>,
    /// A restart was recorded and its delay not yet taken.
    pending: bool,
    /// Restarts since the child was first started.
    total: u32,
}

impl RestartDelay {
    /// A fresh tracker.
    pub fn new(policy: &SupervisionConfig) -> Self {
        Self {
            backoff: Self::builder(policy).build(),
            policy: policy.clone(),
            recent: VecDeque::new(),
            pending: false,
            total: 0,
        }
    }

    fn builder(policy: &SupervisionConfig) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(policy.backoff_initial)
            .with_max_delay(policy.backoff_max)
            .with_jitter()
            .without_max_times()
    }

    /// Records a restart now; returns `false` when the budget (`max_restarts` within `window`) is
    /// exhausted and the child should be marked FAILED instead.
    pub fn record_restart(&mut self) -> bool {
        self.record_restart_at(Instant::now())
    }

    fn record_restart_at(&mut self, now: Instant) -> bool {
        while self.recent.front().is_some_and(|t| now.duration_since(*t) > self.policy.window) {
            self.recent.pop_front();
        }
        if self.recent.is_empty() {
            // A quiet window resets the backoff: the child had been healthy.
            self.backoff = Self::builder(&self.policy).build();
        }
        self.recent.push_back(now);
        self.total += 1;
        self.pending = true;
        self.recent.len() <= self.policy.max_restarts as usize
    }

    /// The delay to wait before the restart just recorded, once.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if !std::mem::take(&mut self.pending) {
            return None;
        }
        Some(self.backoff.next().unwrap_or(self.policy.backoff_max))
    }

    /// Restarts since the child was first started.
    pub fn total(&self) -> u32 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SupervisionConfig {
        SupervisionConfig {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            max_restarts: 3,
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn delays_grow_and_stay_bounded() {
        let mut r = RestartDelay::new(&policy());
        assert_eq!(r.next_delay(), None, "no delay before any restart");
        let now = Instant::now();
        let mut delays = Vec::new();
        for i in 0..3 {
            assert!(r.record_restart_at(now + Duration::from_millis(i)));
            delays.push(r.next_delay().unwrap());
            assert_eq!(r.next_delay(), None, "a delay is taken once");
        }
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(100) && *d <= Duration::from_secs(4)));
        // jitter adds at most one more base delay; the exponential part must still grow
        assert!(delays[2] >= Duration::from_millis(400), "{delays:?}");
    }

    #[test]
    fn budget_exhausted_within_window_and_reset_after() {
        let mut r = RestartDelay::new(&policy());
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(r.record_restart_at(t0 + Duration::from_secs(i)));
        }
        assert!(!r.record_restart_at(t0 + Duration::from_secs(4)), "4th restart in 60s fails");
        // after a quiet window the budget is back
        assert!(r.record_restart_at(t0 + Duration::from_secs(200)));
        assert_eq!(r.total(), 5);
    }
}
