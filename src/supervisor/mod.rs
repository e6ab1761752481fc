//! The root Supervisor: the sole owner of every source actor and the registry of children (id,
//! kind, config, state, restarts, last error). The admin API (a later issue) talks only to it.
//!
//! A child learns nothing about supervision except its `ChildGuard`: the guard's `Drop` sends
//! `ChildExited`, which covers a clean stop, an error and a panic alike (actix drops an actor
//! whose handler panicked). An unexpected exit is answered by rebuilding a **fresh** actor from the
//! stored config after a backon backoff; too many restarts within the window mark it FAILED.
//! The router and the dead-letter actor run under actix's own `Supervisor` so that their addresses
//! stay valid across restarts; they use the same `RestartDelay`.

mod restart;
pub mod task;

pub use restart::RestartDelay;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{SourceConfig, SupervisionConfig};
use crate::sinks::SinkConfig;
use crate::sinks::runner::SinkDeps;
use crate::sources::SourceDeps;

/// Lifecycle commands the supervisor sends to a child.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub enum Control {
    /// Stop taking input, let in-flight work finish within `grace` (flush, commit), then stop.
    Stop {
        /// Time allowed.
        grace: Duration,
    },
    /// Take no input until `Resume` (a sink stops consuming; an HTTP source answers 503).
    Pause,
    /// Undo `Pause`.
    Resume,
}

/// The stored config of a child: what a restart rebuilds it from.
#[derive(Debug, Clone)]
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
    fn start(self, deps: &ChildDeps, guard: ChildGuard) -> Recipient<Control> {
        match self {
            Self::Source(c) => c.start(deps.source.clone(), guard),
            Self::Sink(c) => crate::sinks::runner::start(c, deps.sink.clone(), guard),
        }
    }
}

/// What children are built with.
#[derive(Clone)]
pub struct ChildDeps {
    /// For sources.
    pub source: SourceDeps,
    /// For sinks.
    pub sink: SinkDeps,
}

/// Kafka Connect's state names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChildState {
    /// Started and working.
    Running,
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
    pub const ALL: [ChildState; 5] = [Self::Running, Self::Paused, Self::Stopped, Self::Failed, Self::Restarting];

    /// Kafka Connect's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
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
    /// `source` or `sink`.
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
}

/// Sent by a `ChildGuard` when its actor is gone, whatever the reason.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChildExited {
    id: String,
    generation: u64,
    error: Option<String>,
    /// The child finished its work (a generator that reached its total): not a crash.
    completed: bool,
}

/// Sent by a listener once it is bound.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChildBound {
    id: String,
    generation: u64,
    addr: SocketAddr,
}

/// Held by a child actor; its drop tells the supervisor the child is gone.
pub struct ChildGuard {
    id: String,
    generation: u64,
    error: Option<String>,
    completed: bool,
    supervisor: Addr<Supervisor>,
}

impl ChildGuard {
    /// Records why the child is about to stop (reported with the exit).
    pub fn fail(&mut self, error: impl Into<String>) {
        self.error = Some(error.into());
    }
    /// Records that the child finished its work; its exit is then not restarted.
    pub fn complete(&mut self) {
        self.completed = true;
    }
    /// Reports the address a listener bound.
    pub fn bound(&self, addr: SocketAddr) {
        self.supervisor.do_send(ChildBound { id: self.id.clone(), generation: self.generation, addr });
    }
    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let error = self.error.take().or_else(|| std::thread::panicking().then(|| "the actor panicked".to_owned()));
        let completed = self.completed && error.is_none();
        self.supervisor.do_send(ChildExited { id: self.id.clone(), generation: self.generation, error, completed });
    }
}

struct Child {
    config: ChildConfig,
    state: ChildState,
    generation: u64,
    control: Option<Recipient<Control>>,
    restart: RestartDelay,
    last_error: Option<(String, DateTime<Utc>)>,
    listen: Option<SocketAddr>,
}

/// The root supervisor actor.
pub struct Supervisor {
    deps: ChildDeps,
    policy: SupervisionConfig,
    children: BTreeMap<String, Child>,
}

impl Supervisor {
    /// A supervisor that will start children with `deps`.
    pub fn new(deps: ChildDeps, policy: SupervisionConfig) -> Self {
        Self { deps, policy, children: BTreeMap::new() }
    }

    fn spawn(&mut self, id: &str, ctx: &mut Context<Self>) {
        let me = ctx.address();
        let Some(child) = self.children.get_mut(id) else { return };
        child.generation += 1;
        let guard = ChildGuard {
            id: id.to_owned(),
            generation: child.generation,
            error: None,
            completed: false,
            supervisor: me,
        };
        child.control = Some(child.config.clone().start(&self.deps, guard));
        child.listen = None;
        self.set_state(id, ChildState::Running);
    }
}

impl Supervisor {
    /// Sets a child's state and mirrors it in the `pix_ingest_actor_state` gauge.
    fn set_state(&mut self, id: &str, state: ChildState) {
        let Some(child) = self.children.get_mut(id) else { return };
        child.state = state;
        for s in ChildState::ALL {
            let v = i64::from(s == state);
            self.deps.source.metrics.actor_state.with_label_values(&[id, s.as_str()]).set(v);
        }
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;
}

/// Start a new child under supervision.
#[derive(Message)]
#[rtype(result = "Result<(), SupervisorError>")]
pub struct StartChild(pub ChildConfig);

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
    /// Stop gracefully and start again with this config (same id and kind).
    Replace(ChildConfig),
}

/// Apply `op` to child `id`; answers with the child's registry entry (none after Delete).
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

impl Handler<StartChild> for Supervisor {
    type Result = Result<(), SupervisorError>;
    fn handle(&mut self, msg: StartChild, ctx: &mut Self::Context) -> Self::Result {
        let id = msg.0.id().to_owned();
        if self.children.contains_key(&id) {
            return Err(SupervisorError::AlreadyExists(id));
        }
        self.children.insert(
            id.clone(),
            Child {
                config: msg.0,
                state: ChildState::Running,
                generation: 0,
                control: None,
                restart: RestartDelay::new(&self.policy),
                last_error: None,
                listen: None,
            },
        );
        self.spawn(&id, ctx);
        Ok(())
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ChildExited, ctx: &mut Self::Context) {
        let Some(child) = self.children.get_mut(&msg.id) else { return };
        if child.generation != msg.generation {
            return; // an older incarnation; already replaced
        }
        child.control = None;
        child.listen = None;
        if let Some(e) = &msg.error {
            child.last_error = Some((e.clone(), Utc::now()));
        }
        if msg.completed {
            tracing::info!(actor = %msg.id, "Actor finished its work; stopped.");
            self.set_state(&msg.id, ChildState::Stopped);
            return;
        }
        if child.state != ChildState::Running && child.state != ChildState::Paused {
            return; // stopped on purpose
        }
        let error = msg.error.as_deref().unwrap_or("stopped unexpectedly");
        self.deps.source.metrics.actor_restarts.with_label_values(&[&msg.id]).inc();
        if !child.restart.record_restart() {
            tracing::error!(actor = %msg.id, restarts = child.restart.total(), %error,
                "Actor exceeded its restart budget; marked FAILED and left stopped.");
            self.set_state(&msg.id, ChildState::Failed);
            return;
        }
        let delay = child.restart.next_delay().unwrap_or(Duration::ZERO);
        self.set_state(&msg.id, ChildState::Restarting);
        tracing::warn!(actor = %msg.id, %error, ?delay, "Actor exited; restarting after backoff.");
        let id = msg.id.clone();
        ctx.run_later(delay, move |act, ctx| {
            if act.children.get(&id).is_some_and(|c| c.state == ChildState::Restarting) {
                act.spawn(&id, ctx);
            }
        });
    }
}

impl Handler<ChildBound> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ChildBound, _ctx: &mut Self::Context) {
        if let Some(child) = self.children.get_mut(&msg.id).filter(|c| c.generation == msg.generation) {
            child.listen = Some(msg.addr);
        }
    }
}

/// The registry, for the admin API and tests.
#[derive(Message)]
#[rtype(result = "Vec<ChildInfo>")]
pub struct ListChildren;

impl Supervisor {
    fn info(&self, id: &str) -> Option<ChildInfo> {
        let c = self.children.get(id)?;
        Some(ChildInfo {
            id: id.to_owned(),
            kind: c.config.kind(),
            r#type: c.config.type_name(),
            state: c.state,
            restarts: c.restart.total(),
            last_error: c.last_error.as_ref().map(|(e, _)| e.clone()),
            last_error_at: c.last_error.as_ref().map(|(_, t)| *t),
            listen: c.listen,
        })
    }

    /// The stored configs of every child, in id order (for persistence and the admin API).
    pub fn configs(&self) -> Vec<(ChildConfig, ChildState)> {
        self.children.values().map(|c| (c.config.clone(), c.state)).collect()
    }
}

impl Handler<Command> for Supervisor {
    type Result = ResponseActFuture<Self, Result<Option<ChildInfo>, SupervisorError>>;

    fn handle(&mut self, msg: Command, _ctx: &mut Self::Context) -> Self::Result {
        let Command { id, op, grace } = msg;
        let Some(child) = self.children.get_mut(&id) else {
            return Box::pin(actix::fut::ready(Err(SupervisorError::NotFound(id))));
        };
        let state = child.state;
        let invalid = |why| Err(SupervisorError::InvalidState { id: id.clone(), state: state.as_str(), why });
        match op {
            Op::Pause | Op::Resume => {
                let pause = matches!(op, Op::Pause);
                let (from, to) = if pause {
                    (ChildState::Running, ChildState::Paused)
                } else {
                    (ChildState::Paused, ChildState::Running)
                };
                if state != from {
                    let why =
                        if pause { "only a RUNNING actor can be paused" } else { "only a PAUSED actor can be resumed" };
                    return Box::pin(actix::fut::ready(invalid(why)));
                }
                if let Some(c) = &child.control {
                    c.do_send(if pause { Control::Pause } else { Control::Resume });
                }
                self.set_state(&id, to);
                Box::pin(actix::fut::ready(Ok(self.info(&id))))
            }
            Op::Restart | Op::Delete | Op::Replace(_) => {
                if let Op::Replace(new) = &op
                    && (new.id() != id || new.kind() != child.config.kind())
                {
                    return Box::pin(actix::fut::ready(Err(SupervisorError::IdentityChange(id))));
                }
                // Mark it stopped first, so its exit is not taken for a crash.
                let control = child.control.take();
                self.set_state(&id, ChildState::Stopped);
                let stop = async move {
                    if let Some(c) = control {
                        let _ = c.send(Control::Stop { grace }).await;
                    }
                };
                Box::pin(stop.into_actor(self).map(move |(), act, ctx| match op {
                    Op::Delete => {
                        act.children.remove(&id);
                        for s in ChildState::ALL {
                            let _ = act.deps.source.metrics.actor_state.remove_label_values(&[&id, s.as_str()]);
                        }
                        Ok(None)
                    }
                    Op::Replace(new) => {
                        if let Some(c) = act.children.get_mut(&id) {
                            c.config = new;
                            c.restart = RestartDelay::new(&act.policy);
                        }
                        act.spawn(&id, ctx);
                        Ok(act.info(&id))
                    }
                    _ => {
                        if let Some(c) = act.children.get_mut(&id) {
                            c.restart = RestartDelay::new(&act.policy);
                        }
                        act.spawn(&id, ctx);
                        Ok(act.info(&id))
                    }
                }))
            }
        }
    }
}

impl Handler<ListChildren> for Supervisor {
    type Result = MessageResult<ListChildren>;
    fn handle(&mut self, _msg: ListChildren, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.children.keys().filter_map(|id| self.info(id)).collect())
    }
}

/// Stop every child gracefully (shutdown): sources first (no new input, in-flight requests
/// finish), then sinks (flush, commit), within `grace`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopAll {
    /// Time allowed.
    pub grace: Duration,
}

impl Handler<StopAll> for Supervisor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: StopAll, _ctx: &mut Self::Context) -> Self::Result {
        let (mut sources, mut sinks) = (Vec::new(), Vec::new());
        let ids: Vec<String> = self.children.keys().cloned().collect();
        for id in ids {
            self.set_state(&id, ChildState::Stopped);
            if let Some(child) = self.children.get_mut(&id) {
                let is_sink = matches!(child.config, ChildConfig::Sink(_));
                if let Some(c) = child.control.take() {
                    if is_sink { sinks.push(c) } else { sources.push(c) }
                }
            }
        }
        let grace = msg.grace;
        Box::pin(async move {
            // Sources first: no new input; then sinks drain what is in Kafka's hands, flush, commit.
            let stop = |cs: Vec<Recipient<Control>>| {
                futures::future::join_all(cs.into_iter().map(move |c| c.send(Control::Stop { grace })))
            };
            let _ = stop(sources).await;
            let _ = stop(sinks).await;
        })
    }
}
