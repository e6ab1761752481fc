//! What can be asked of the supervisor: by the app at start and stop, and by the admin API.

use std::time::Duration;

use actix::Message;

use super::registry::{ChildConfig, ChildInfo};

/// Start a child from the config files (not persisted: the YAML is the baseline).
#[derive(Message)]
#[rtype(result = "Result<(), SupervisorError>")]
pub struct StartChild(pub ChildConfig);

/// Add a child through the admin API; on success the entry is persisted in the state file with
/// `body` (the request as sent, so `${VAR}` references stay references).
#[derive(Message)]
#[rtype(result = "Result<ChildInfo, SupervisorError>")]
pub struct AddChild {
    /// The parsed entry.
    pub config: ChildConfig,
    /// Its text as sent.
    pub body: String,
}

/// Errors the supervisor answers with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SupervisorError {
    /// A child with this id exists.
    #[error("an actor with id `{0}` already exists")]
    AlreadyExists(String),
    /// No child with this id.
    #[error("no actor with id `{0}`")]
    NotFound(String),
    /// The operation does not apply in the child's state.
    #[error("actor `{id}` is {state}; {why}")]
    InvalidState {
        /// The child.
        id: String,
        /// Its state.
        state: &'static str,
        /// What would be needed.
        why: &'static str,
    },
    /// A replacement config changes the id or the kind.
    #[error("the new config must keep id `{0}` and its kind")]
    IdentityChange(String),
    /// An added actor failed at once (its listener cannot bind); it was not kept.
    #[error("actor `{id}` could not start: {error}")]
    StartFailed {
        /// The child.
        id: String,
        /// Why.
        error: String,
    },
}

/// Lifecycle operations of the admin API on one child.
#[derive(Debug, Clone)]
pub enum Op {
    /// Stop taking input.
    Pause,
    /// Take input again.
    Resume,
    /// Stop gracefully and start a fresh incarnation (also brings a FAILED child back).
    Restart,
    /// Stop gracefully (drain, flush, commit) and forget the child.
    Delete,
    /// Stop gracefully and start again with this config (same id and kind); `body` is persisted.
    Replace {
        /// The new entry.
        config: Box<ChildConfig>,
        /// Its text as sent.
        body: String,
    },
}

/// Apply `op` to child `id`; answers with the child's registry entry (none after Delete). A
/// successful operation is persisted in the state file.
#[derive(Message)]
#[rtype(result = "Result<Option<ChildInfo>, SupervisorError>")]
pub struct Command {
    /// The child.
    pub id: String,
    /// What to do.
    pub op: Op,
    /// Time allowed for a graceful stop.
    pub grace: Duration,
}

/// The registry, for the admin API and tests: sources and sinks in id order, then the pipeline
/// actors.
#[derive(Message)]
#[rtype(result = "Vec<ChildInfo>")]
pub struct ListChildren;

/// The stored configs of every source and sink, in id order.
#[derive(Message)]
#[rtype(result = "Vec<ChildConfig>")]
pub struct Configs;

/// Whether this instance can take traffic: Kafka reachable, and no actor of the config file
/// (nor a pipeline actor) FAILED or RESTARTING. An actor added through the admin API that fails,
/// and a DEGRADED one, are reported in `degraded` and leave the instance ready. With `actor`:
/// that one actor's readiness (RUNNING or DEGRADED, its listener bound) and Kafka's.
#[derive(Message, Default)]
#[rtype(result = "Readiness")]
pub struct CheckReadiness {
    /// One actor instead of the instance.
    pub actor: Option<String>,
}

/// The answer to `CheckReadiness`: empty `not_ready` means ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    /// What is not ready, one line each.
    pub not_ready: Vec<String>,
    /// What is failing without making the instance unready, one line each.
    pub degraded: Vec<String>,
    /// `false` when `actor` names no actor.
    pub found: bool,
}

/// Stop every child gracefully (shutdown): sources first (no new input, in-flight requests
/// finish), then sinks (flush, commit), then the producers flush, within `grace`.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct StopAll {
    /// Time allowed.
    pub grace: Duration,
}
