//! The supervisor's handlers for the app and the admin API: start and add children, pause,
//! resume, restart, replace and delete them, list them, check readiness, stop everything.

use std::time::Duration;

use actix::prelude::*;

use super::Supervisor;
use super::messages::*;
use super::pipeline::Pipeline;
use super::registry::{Child, ChildConfig, ChildInfo, ChildState};
use crate::lifecycle::{Control, RestartDelay};

type Answer = Result<Option<ChildInfo>, SupervisorError>;

impl Supervisor {
    fn insert(&mut self, config: ChildConfig, ctx: &mut Context<Self>) -> Result<ChildInfo, SupervisorError> {
        let id = config.id().to_owned();
        if self.children.contains_key(&id) || Pipeline::owns(&id) {
            return Err(SupervisorError::AlreadyExists(id));
        }
        self.children.insert(id.clone(), Child::new(config, RestartDelay::new(&self.policy)));
        self.spawn(&id, ctx);
        self.info(&id).ok_or(SupervisorError::NotFound(id))
    }

    fn info(&self, id: &str) -> Option<ChildInfo> {
        self.children.get(id).map(|c| c.info(id))
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
                self.children.remove(id);
                for s in ChildState::ALL {
                    let _ = self.metrics().actor_state.remove_label_values(&[id, s.as_str()]);
                }
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

impl Handler<AddChild> for Supervisor {
    type Result = Result<ChildInfo, SupervisorError>;
    fn handle(&mut self, msg: AddChild, ctx: &mut Self::Context) -> Self::Result {
        let (id, kind) = (msg.config.id().to_owned(), msg.config.kind());
        let info = self.insert(msg.config, ctx)?;
        self.persist(|d| {
            let e = d.entry(&id, kind);
            (e.body, e.deleted, e.paused) = (Some(msg.body), false, false);
        });
        Ok(info)
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
        let mut all: Vec<ChildInfo> = self.children.iter().map(|(id, c)| c.info(id)).collect();
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

impl Handler<CheckReadiness> for Supervisor {
    type Result = ResponseFuture<Readiness>;
    fn handle(&mut self, _: CheckReadiness, _: &mut Self::Context) -> Self::Result {
        let mut infos: Vec<ChildInfo> = self.pipeline.as_ref().map(Pipeline::infos).unwrap_or_default();
        infos.extend(self.children.iter().map(|(id, c)| c.info(id)));
        let mut not_ready: Vec<String> = infos
            .into_iter()
            .filter(|c| matches!(c.state, ChildState::Failed | ChildState::Restarting))
            .map(|c| format!("{} {}: {}", c.kind, c.id, c.state.as_str()))
            .collect();
        let probe = self.probe.clone();
        Box::pin(async move {
            if let Some(p) = probe
                && !p.reachable(Duration::from_secs(2)).await
            {
                not_ready.insert(0, "kafka: no metadata answer within 2s".to_owned());
            }
            Readiness { not_ready }
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
