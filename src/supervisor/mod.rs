//! The root Supervisor: the sole owner of every source and sink actor and of the pipeline actors
//! (router, dead letter), the registry of all of them (id, kind, config, state, restarts, last
//! error), and the admin API's only door: its commands arrive as messages here, and what they
//! change is persisted in the desired-state file (`state`) and laid over the YAML at the next
//! start (`reconcile`).
//!
//! A child learns nothing about supervision except its `ChildGuard` (module `lifecycle`). An
//! unexpected exit is answered by rebuilding a **fresh** actor from the stored config after a
//! backon backoff; too many restarts within the window mark it FAILED (`registry::on_exit`).

mod commands;
mod messages;
mod pipeline;
pub mod reconcile;
mod registry;
pub mod reload;
pub mod state;

pub use messages::{
    AddChild, CheckReadiness, Command, Configs, ListChildren, Op, Readiness, StartChild, StopAll, SupervisorError,
};
pub use pipeline::PipelineSpec;

pub use registry::{ChildConfig, ChildInfo, ChildState, Origin};

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::prelude::*;

use self::pipeline::Pipeline;
use self::registry::{Child, Transition, on_exit};
use self::state::DesiredState;
use crate::dead_letter::DeadLetterBatch;
use crate::kafka::MetadataProbe;
use crate::lifecycle::{ChildBound, ChildExited, ChildGuard, ChildProgress, Control, ExitReport, SupervisionConfig};
use crate::router::RouteBatch;
use crate::sinks::runner::{SinkDeps, SinkEnv};
use crate::sources::{SourceDeps, ValidationSettings};
use crate::telemetry::metrics::Metrics;

/// What children are built with.
#[derive(Clone)]
pub struct ChildDeps {
    /// For sources.
    pub source: SourceDeps,
    /// For sinks.
    pub sink: SinkDeps,
}

/// Where sources send what they decoded.
pub enum Wiring {
    /// The supervisor starts and owns the router and the dead-letter actor.
    Pipeline(PipelineSpec),
    /// Given recipients (tests stand stubs in for the pipeline actors).
    Given {
        /// Takes `RouteBatch`.
        router: Recipient<RouteBatch>,
        /// Takes `DeadLetterBatch`.
        dead_letter: Recipient<DeadLetterBatch>,
    },
}

/// Everything the supervisor is built from.
pub struct SupervisorSpec {
    /// Restart policy.
    pub policy: SupervisionConfig,
    /// The pipeline actors, or recipients standing in for them.
    pub wiring: Wiring,
    /// Validator settings of every source.
    pub validation: Arc<ValidationSettings>,
    /// The cluster breaker the producers report to and the sources ask.
    pub breaker: Arc<crate::kafka::Breaker>,
    /// The index of acknowledged event ids the sources share.
    pub acked: Arc<crate::sources::pipeline::AckIndex>,
    /// The app's metrics.
    pub metrics: Arc<Metrics>,
    /// Where sinks read from.
    pub sinks: SinkEnv,
    /// The metadata probe behind readiness; `None`: Kafka is not checked.
    pub probe: Option<MetadataProbe>,
    /// What the admin API changed before; written back on every change.
    pub desired: DesiredState,
}

/// The root supervisor actor.
pub struct Supervisor {
    deps: ChildDeps,
    policy: SupervisionConfig,
    children: BTreeMap<String, Child>,
    pipeline: Option<Pipeline>,
    probe: Option<MetadataProbe>,
    desired: DesiredState,
    /// Admin additions waiting for their listener to bind or fail (`commands::add`).
    awaiting: std::collections::HashMap<String, tokio::sync::oneshot::Sender<Result<(), String>>>,
}

impl Supervisor {
    /// Starts the pipeline actors (when the spec has them) and returns a supervisor that will
    /// start children with the deps.
    pub fn new(spec: SupervisorSpec) -> Self {
        let SupervisorSpec { policy, wiring, validation, breaker, acked, metrics, sinks, probe, desired } = spec;
        let (pipeline, router, dead_letter) = match wiring {
            Wiring::Pipeline(p) => {
                let p = Pipeline::start(p, &policy, &metrics);
                let (r, d) = (p.router.clone().recipient(), p.dead_letter.clone().recipient());
                (Some(p), r, d)
            }
            Wiring::Given { router, dead_letter } => (None, router, dead_letter),
        };
        let deps = ChildDeps {
            source: SourceDeps {
                router,
                dead_letter: dead_letter.clone(),
                validation,
                metrics: Arc::clone(&metrics),
                breaker,
                acked,
            },
            sink: SinkDeps::new(sinks, dead_letter, metrics),
        };
        Self { deps, policy, children: BTreeMap::new(), pipeline, probe, desired, awaiting: Default::default() }
    }

    fn metrics(&self) -> &Arc<Metrics> {
        &self.deps.source.metrics
    }

    fn spawn(&mut self, id: &str, ctx: &mut Context<Self>) {
        let report = ExitReport {
            exited: ctx.address().recipient(),
            bound: ctx.address().recipient(),
            progress: ctx.address().recipient(),
        };
        let Some(child) = self.children.get_mut(id) else { return };
        child.generation += 1;
        let guard = ChildGuard::new(id, child.generation, report);
        child.control = Some(match &child.config {
            ChildConfig::Source(c) => c.start(self.deps.source.clone(), guard),
            ChildConfig::Sink(c) => crate::sinks::runner::start(c.clone(), self.deps.sink.clone(), guard),
        });
        child.listen = None;
        self.metrics().health.recovered(id);
        self.set_state(id, ChildState::Running);
    }

    /// Sets a child's state and mirrors it in the `pix_ingest_actor_state` gauge.
    fn set_state(&mut self, id: &str, state: ChildState) {
        let Some(child) = self.children.get_mut(id) else { return };
        child.state = state;
        self.mirror(id);
    }

    /// The registry entry of child `id`, DEGRADED included.
    fn info(&self, id: &str) -> Option<ChildInfo> {
        self.children.get(id).map(|c| c.info(id, &self.metrics().health))
    }

    /// Mirrors the shown state of child `id` (DEGRADED included) in `pix_ingest_actor_state`.
    fn mirror(&self, id: &str) {
        let Some(shown) = self.info(id).map(|i| i.state) else { return };
        for s in ChildState::ALL {
            self.metrics().actor_state.with_label_values(&[id, s.as_str()]).set(i64::from(s == shown));
        }
    }

    /// Records a change of the admin API and writes the state file.
    fn persist(&mut self, f: impl FnOnce(&mut DesiredState)) {
        f(&mut self.desired);
        if let Err(error) = self.desired.save() {
            tracing::error!(%error, "Cannot write the admin state file; the change is live but will not survive a restart.");
        }
    }

    fn stored_control(&mut self, id: &str) -> Option<Recipient<Control>> {
        self.children.get_mut(id).and_then(|c| c.control.take())
    }
}

/// How often the gauge follows DEGRADED (reported by the actors, not by a transition here).
const MIRROR_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(MIRROR_EVERY, |act, _| {
            let ids: Vec<String> = act.children.keys().cloned().collect();
            for id in ids {
                act.mirror(&id);
            }
        });
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ChildExited, ctx: &mut Self::Context) {
        let error = msg.error.clone().unwrap_or_else(|| "stopped unexpectedly".to_owned());
        if self.children.get(&msg.id).is_some_and(|c| c.generation == msg.generation)
            && let Some(waiting) = self.awaiting.remove(&msg.id)
        {
            // An admin addition that could not start: it is answered with the error and removed.
            let _ = waiting.send(Err(error));
            self.forget(&msg.id);
            return;
        }
        let Some(child) = self.children.get_mut(&msg.id) else { return };
        let transition = on_exit(child, &msg);
        let restarts = child.restart.total();
        match transition {
            Transition::Ignore => {}
            Transition::Completed => {
                tracing::info!(actor = %msg.id, "Actor finished its work; stopped.");
                self.set_state(&msg.id, ChildState::Stopped);
            }
            Transition::Failed => {
                self.metrics().actor_restarts.with_label_values(&[&msg.id]).inc();
                tracing::error!(actor = %msg.id, restarts, %error,
                    "Actor exceeded its restart budget; marked FAILED and left stopped.");
                self.set_state(&msg.id, ChildState::Failed);
            }
            Transition::Restart(delay) => {
                self.metrics().actor_restarts.with_label_values(&[&msg.id]).inc();
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
    }
}

impl Handler<ChildBound> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ChildBound, _ctx: &mut Self::Context) {
        if let Some(child) = self.children.get_mut(&msg.id).filter(|c| c.generation == msg.generation) {
            child.listen = Some(msg.addr);
            if let Some(waiting) = self.awaiting.remove(&msg.id) {
                let _ = waiting.send(Ok(()));
            }
        }
    }
}

impl Handler<ChildProgress> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ChildProgress, _ctx: &mut Self::Context) {
        if let Some(child) = self.children.get_mut(&msg.id).filter(|c| c.generation == msg.generation) {
            child.progress = Some(msg.progress);
        }
    }
}

#[cfg(test)]
mod tests;
