//! The registry of children: what each one is built from (`ChildConfig`), its state (Kafka
//! Connect's names), restarts and last error, and the pure transition a child's exit causes
//! (`on_exit`), kept apart from the actor so it can be tested on its own.

use std::net::SocketAddr;
use std::time::Duration;

use actix::Recipient;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::lifecycle::{ChildExited, Control, RestartDelay};
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;
use crate::telemetry::health::Health;

/// The stored config of a child: what a restart rebuilds it from.
#[derive(Debug, Clone, PartialEq)]
pub enum ChildConfig {
    /// A source.
    Source(SourceConfig),
    /// A sink.
    Sink(SinkConfig),
}

impl ChildConfig {
    /// Id from config.
    pub fn id(&self) -> &str {
        match self {
            Self::Source(c) => c.id(),
            Self::Sink(c) => c.id(),
        }
    }
    /// `source` or `sink`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Source(_) => "source",
            Self::Sink(_) => "sink",
        }
    }
    /// The `type` within the kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Source(c) => c.type_name(),
            Self::Sink(c) => c.type_name(),
        }
    }
}

/// Kafka Connect's state names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChildState {
    /// Started and working.
    Running,
    /// Running, but its work keeps failing (a sink retrying a destination that is down): shown
    /// instead of RUNNING while the failures last; never restarted for it.
    Degraded,
    /// Started, taking no input (admin API).
    Paused,
    /// Stopped on purpose.
    Stopped,
    /// Gave up after too many restarts; stays stopped and visible.
    Failed,
    /// Waiting for its backoff before a restart.
    Restarting,
}

impl ChildState {
    /// Every state.
    pub const ALL: [ChildState; 6] =
        [Self::Running, Self::Degraded, Self::Paused, Self::Stopped, Self::Failed, Self::Restarting];

    /// Kafka Connect's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Degraded => "DEGRADED",
            Self::Paused => "PAUSED",
            Self::Stopped => "STOPPED",
            Self::Failed => "FAILED",
            Self::Restarting => "RESTARTING",
        }
    }
}

/// What the registry shows of a child.
#[derive(Debug, Clone, Serialize)]
pub struct ChildInfo {
    /// Id from config.
    pub id: String,
    /// `source`, `sink` or `pipeline` (the router and the dead-letter actor).
    pub kind: &'static str,
    /// `http`, `file`, ...
    pub r#type: &'static str,
    /// Current state.
    pub state: ChildState,
    /// Restarts since start.
    pub restarts: u32,
    /// Last error and when.
    pub last_error: Option<String>,
    /// When the last error happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Where a listener is bound, once it is.
    pub listen: Option<SocketAddr>,
    /// Since when it is DEGRADED (its failures started), while it is.
    pub degraded_since: Option<DateTime<Utc>>,
    /// Where it comes from: `config` (the file, at start or by a reload) or `admin` (the admin
    /// API, now or in an earlier run). Only `config` actors decide the admin `/readyz`.
    pub origin: Origin,
    /// What the child last reported of its progress (a poller's cursor and last poll time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<serde_json::Value>,
}

/// Where a child comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The config file.
    Config,
    /// The admin API.
    Admin,
}

/// One supervised child.
pub(super) struct Child {
    pub(super) config: ChildConfig,
    pub(super) state: ChildState,
    pub(super) generation: u64,
    pub(super) control: Option<Recipient<Control>>,
    pub(super) restart: RestartDelay,
    pub(super) last_error: Option<(String, DateTime<Utc>)>,
    pub(super) listen: Option<SocketAddr>,
    pub(super) origin: Origin,
    pub(super) progress: Option<serde_json::Value>,
}

impl Child {
    pub(super) fn new(config: ChildConfig, restart: RestartDelay) -> Self {
        Self {
            config,
            state: ChildState::Running,
            generation: 0,
            control: None,
            restart,
            last_error: None,
            listen: None,
            origin: Origin::Config,
            progress: None,
        }
    }

    /// The registry entry; a RUNNING child that `health` says is failing shows DEGRADED with that
    /// failure as its last error.
    pub(super) fn info(&self, id: &str, health: &Health) -> ChildInfo {
        let failing = health.of(id).filter(|_| self.state == ChildState::Running);
        let last_error = match &failing {
            Some(f) => Some((f.error.clone(), f.at)),
            None => self.last_error.clone(),
        };
        ChildInfo {
            id: id.to_owned(),
            kind: self.config.kind(),
            r#type: self.config.type_name(),
            state: if failing.is_some() { ChildState::Degraded } else { self.state },
            restarts: self.restart.total(),
            last_error: last_error.as_ref().map(|(e, _)| e.clone()),
            last_error_at: last_error.as_ref().map(|(_, t)| *t),
            listen: self.listen,
            degraded_since: failing.map(|f| f.since),
            origin: self.origin,
            progress: self.progress.clone(),
        }
    }
}

/// What an exit report leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Transition {
    /// From an older incarnation, or a child stopped on purpose: nothing to do.
    Ignore,
    /// It finished its work: STOPPED, not restarted.
    Completed,
    /// It crashed once too often within the window: FAILED, left stopped.
    Failed,
    /// It crashed: RESTARTING, started again after this delay.
    Restart(Duration),
}

/// Applies an exit report to a child's record and says what the supervisor must do next.
pub(super) fn on_exit(child: &mut Child, msg: &ChildExited) -> Transition {
    if child.generation != msg.generation {
        return Transition::Ignore; // an older incarnation; already replaced
    }
    child.control = None;
    child.listen = None;
    if let Some(e) = &msg.error {
        child.last_error = Some((e.clone(), Utc::now()));
    }
    if msg.completed {
        return Transition::Completed;
    }
    if child.state != ChildState::Running && child.state != ChildState::Paused {
        return Transition::Ignore; // stopped on purpose
    }
    if !child.restart.record_restart() {
        return Transition::Failed;
    }
    Transition::Restart(child.restart.next_delay().unwrap_or(Duration::ZERO))
}
