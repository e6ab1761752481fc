//! The supervisor's handlers for the app and the admin API: start and add children, pause,
//! resume, restart, replace and delete them, list them, check readiness, stop everything.

use std::time::Duration;

use actix::prelude::*;

use super::Supervisor;
use super::messages::*;
use super::pipeline::Pipeline;
use super::registry::{Child, ChildConfig, ChildInfo, ChildState, Origin};
use crate::lifecycle::{Control, RestartDelay};

type Answer = Result<Option<ChildInfo>, SupervisorError>;

impl Supervisor {
    fn insert(&mut self, config: ChildConfig, ctx: &mut Context<Self>) -> Result<ChildInfo, SupervisorError> {
        let id = config.id().to_owned();
        if self.children.contains_key(&id) || Pipeline::owns(&id) {
            return Err(SupervisorError::AlreadyExists(id));
        }
        let mut child = Child::new(config, RestartDelay::new(&self.policy));
        // An entry the admin API added in an earlier run comes back from the state file.
        if self.desired.actors.get(&id).is_some_and(|o| o.body.is_some()) {
            child.origin = Origin::Admin;
        }
        self.children.insert(id.clone(), child);
        self.spawn(&id, ctx);
        self.info(&id).ok_or(SupervisorError::NotFound(id))
    }

    /// Removes child `id` from the registry and its gauges (it is stopped already).
    pub(super) fn forget(&mut self, id: &str) {
        self.children.remove(id);
        self.metrics().health.recovered(id);
        for s in ChildState::ALL {
            let _ = self.metrics().actor_state.remove_label_values(&[id, s.as_str()]);
        }
    }

    /// Pause or resume: only from RUNNING, or from PAUSED.
    fn pause_or_resume(&mut self, id: &str, pause: bool) -> Answer {
        let Some(child) = self.children.get(id) else { return Err(SupervisorError::NotFound(id.to_owned())) };
        let (from, to, why) = if pause {
            (ChildState::Running, ChildState::Paused, "only a RUNNING actor can be paused")
        } else {
            (ChildState::Paused, ChildState::Running, "only a PAUSED actor can be resumed")
        };
        if child.state != from {
            return Err(SupervisorError::InvalidState { id: id.to_owned(), state: child.state.as_str(), why });
        }
        if let Some(c) = &child.control {
            c.do_send(if pause { Control::Pause } else { Control::Resume });
        }
        let kind = child.config.kind();
        self.set_state(id, to);
        self.persist(|d| d.entry(id, kind).paused = pause);
        Ok(self.info(id))
    }

    /// What happens once a child stopped for a restart, a replacement or a delete.
    fn after_stop(&mut self, id: &str, op: Op, ctx: &mut Context<Self>) -> Answer {
        let kind = self.children.get(id).map_or("source", |c| c.config.kind());
        match op {
            Op::Delete => {
                self.forget(id);
                self.persist(|d| {
                    let e = d.entry(id, kind);
                    (e.deleted, e.body, e.paused) = (true, None, false);
                });
                Ok(None)
            }
            Op::Replace { config, body } => {
                if let Some(c) = self.children.get_mut(id) {
                    c.config = *config;
                    c.restart = RestartDelay::new(&self.policy);
                }
                self.spawn(id, ctx);
                self.persist(|d| {
                    let e = d.entry(id, kind);
                    (e.body, e.paused) = (Some(body), false);
                });
                Ok(self.info(id))
            }
            _ => {
                if let Some(c) = self.children.get_mut(id) {
                    c.restart = RestartDelay::new(&self.policy);
                }
                self.spawn(id, ctx);
                // A restart leaves the actor RUNNING: it clears a persisted pause too.
                self.persist(|d| d.entry(id, kind).paused = false);
                Ok(self.info(id))
            }
        }
    }
}

impl Handler<StartChild> for Supervisor {
    type Result = Result<(), SupervisorError>;
    fn handle(&mut self, msg: StartChild, ctx: &mut Self::Context) -> Self::Result {
        self.insert(msg.0, ctx).map(drop)
    }
}

/// How long an admin addition waits for its listener to bind before answering.
const BIND_WAIT: Duration = Duration::from_secs(10);

impl Handler<AddChild> for Supervisor {
    type Result = ResponseActFuture<Self, Result<ChildInfo, SupervisorError>>;
    /// Starts the child; one with a listener is answered only once it is bound, and one whose
    /// bind fails (port taken, TLS files) is removed and answered with the error, not left in a
    /// restart loop. Persisted only when it started.
    fn handle(&mut self, msg: AddChild, ctx: &mut Self::Context) -> Self::Result {
        let (id, kind) = (msg.config.id().to_owned(), msg.config.kind());
        let listens = matches!(&msg.config, ChildConfig::Source(c) if c.kind().listen().is_some());
        if let Err(e) = self.insert(msg.config, ctx) {
            return Box::pin(actix::fut::ready(Err(e)));
        }
        if let Some(c) = self.children.get_mut(&id) {
            c.origin = Origin::Admin;
        }
        let body = msg.body;
        let keep = move |act: &mut Self, id: &str| {
            act.persist(|d| {
                let e = d.entry(id, kind);
                (e.body, e.deleted, e.paused) = (Some(body), false, false);
            });
            act.info(id).ok_or_else(|| SupervisorError::NotFound(id.to_owned()))
        };
        if !listens {
            return Box::pin(actix::fut::ready(keep(self, &id)));
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.awaiting.insert(id.clone(), tx);
        let bound = async move { tokio::time::timeout(BIND_WAIT, rx).await };
        Box::pin(bound.into_actor(self).map(move |outcome, act, _| {
            act.awaiting.remove(&id);
            match outcome {
                Ok(Ok(Err(error))) => Err(SupervisorError::StartFailed { id, error }),
                // Bound, or still starting after BIND_WAIT: kept (its state tells the rest).
                _ => keep(act, &id),
            }
        }))
    }
}

impl Handler<Command> for Supervisor {
    type Result = ResponseActFuture<Self, Answer>;

    fn handle(&mut self, msg: Command, _ctx: &mut Self::Context) -> Self::Result {
        let Command { id, op, grace } = msg;
        let ready = |a: Answer| -> Self::Result { Box::pin(actix::fut::ready(a)) };
        if Pipeline::owns(&id) {
            return ready(self.pipeline_command(&id, &op));
        }
        let Some(child) = self.children.get(&id) else { return ready(Err(SupervisorError::NotFound(id))) };
        if let Op::Replace { config, .. } = &op
            && (config.id() != id || config.kind() != child.config.kind())
        {
            return ready(Err(SupervisorError::IdentityChange(id)));
        }
        match op {
            Op::Pause => ready(self.pause_or_resume(&id, true)),
            Op::Resume => ready(self.pause_or_resume(&id, false)),
            op => {
                // Mark it stopped first, so its exit is not taken for a crash.
                let control = self.stored_control(&id);
                self.set_state(&id, ChildState::Stopped);
                let stop = async move {
                    if let Some(c) = control {
                        let _ = c.send(Control::Stop { grace }).await;
                    }
                };
                Box::pin(stop.into_actor(self).map(move |(), act, ctx| act.after_stop(&id, op, ctx)))
            }
        }
    }
}

impl Supervisor {
    /// Pipeline actors can only be restarted (they have no config of their own to change).
    fn pipeline_command(&self, id: &str, op: &Op) -> Answer {
        let Some(p) = &self.pipeline else { return Err(SupervisorError::NotFound(id.to_owned())) };
        if !matches!(op, Op::Restart) {
            let why = "pipeline actors can only be restarted";
            return Err(SupervisorError::InvalidState { id: id.to_owned(), state: "RUNNING", why });
        }
        p.restart(id);
        Ok(p.infos().into_iter().find(|i| i.id == id))
    }
}

impl Handler<ListChildren> for Supervisor {
    type Result = MessageResult<ListChildren>;
    fn handle(&mut self, _msg: ListChildren, _ctx: &mut Self::Context) -> Self::Result {
        let mut all: Vec<ChildInfo> = self.children.keys().filter_map(|id| self.info(id)).collect();
        all.extend(self.pipeline.as_ref().map(Pipeline::infos).unwrap_or_default());
        MessageResult(all)
    }
}

impl Handler<Configs> for Supervisor {
    type Result = MessageResult<Configs>;
    fn handle(&mut self, _: Configs, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.children.values().map(|c| c.config.clone()).collect())
    }
}

impl Supervisor {
    /// Sorts every actor into not ready (`config` ones, pipeline actors) and degraded.
    fn instance_readiness(&self) -> Readiness {
        let mut r = Readiness { found: true, ..Readiness::default() };
        let mut infos: Vec<ChildInfo> = self.pipeline.as_ref().map(Pipeline::infos).unwrap_or_default();
        infos.extend(self.children.keys().filter_map(|id| self.info(id)));
        for c in infos {
            let line = format!("{} {}: {}", c.kind, c.id, c.state.as_str());
            match c.state {
                ChildState::Failed | ChildState::Restarting if c.origin == Origin::Config => r.not_ready.push(line),
                ChildState::Failed | ChildState::Restarting | ChildState::Degraded => r.degraded.push(line),
                _ => {}
            }
        }
        r
    }

    /// One actor: ready when RUNNING or DEGRADED and, for a listener, bound.
    fn actor_readiness(&self, id: &str) -> Readiness {
        let mut r = Readiness::default();
        let Some(c) = self.info(id) else { return r };
        r.found = true;
        let listens = self.children.get(id).is_some_and(|c| match &c.config {
            ChildConfig::Source(s) => s.kind().listen().is_some(),
            ChildConfig::Sink(_) => false,
        });
        if !matches!(c.state, ChildState::Running | ChildState::Degraded) {
            r.not_ready.push(format!("{} {}: {}", c.kind, c.id, c.state.as_str()));
        } else if listens && c.listen.is_none() {
            r.not_ready.push(format!("{} {}: not listening yet", c.kind, c.id));
        }
        if c.state == ChildState::Degraded {
            r.degraded.push(format!("{} {}: {}", c.kind, c.id, c.last_error.unwrap_or_default()));
        }
        r
    }
}

impl Handler<CheckReadiness> for Supervisor {
    type Result = ResponseFuture<Readiness>;
    fn handle(&mut self, msg: CheckReadiness, _: &mut Self::Context) -> Self::Result {
        let mut r = match &msg.actor {
            None => self.instance_readiness(),
            Some(id) => self.actor_readiness(id),
        };
        let probe = self.probe.clone().filter(|_| r.found);
        Box::pin(async move {
            if let Some(p) = probe
                && !p.reachable(Duration::from_secs(2)).await
            {
                r.not_ready.insert(0, "kafka: no metadata answer within 2s".to_owned());
            }
            r
        })
    }
}

impl Handler<StopAll> for Supervisor {
    type Result = ResponseFuture<bool>;
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
        let pipeline = self.pipeline.as_ref().map(|p| (p.router.clone(), p.dead_letter.clone()));
        Box::pin(async move {
            let start = tokio::time::Instant::now();
            // Sources first: no new input; then sinks drain what is in Kafka's hands, flush, commit.
            let stop = |cs: Vec<Recipient<Control>>| {
                futures::future::join_all(cs.into_iter().map(move |c| c.send(Control::Stop { grace })))
            };
            let stopped = tokio::time::timeout(grace, async {
                stop(sources).await;
                stop(sinks).await;
            })
            .await
            .is_ok();
            let Some((router, dead_letter)) = pipeline else { return stopped };
            let left = grace.saturating_sub(start.elapsed());
            Pipeline::flush(router, dead_letter, left).await && stopped
        })
    }
}
