//! A config reload (SIGHUP, `POST /api/v1/reload`): the new file's sources and sinks, with the
//! admin API's overlay laid over them as at start (`reconcile`), compared with what runs. An
//! actor whose entry is gone is stopped gracefully and forgotten; one whose entry changed is
//! stopped and started again from the new entry (a new kind: replaced); a new one is started;
//! the others keep running untouched. Every stop happens before any start, so an entry that
//! moves a listener to a port another one frees works. Nothing is persisted: the file is the
//! baseline, the state file only holds what the admin API did.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;

use super::Supervisor;
use super::reconcile::reconcile;
use super::registry::{Child, ChildConfig, ChildState, Origin};
use crate::base::vars::VarSource;
use crate::config::ConfigErrors;
use crate::lifecycle::{Control, RestartDelay};
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;

/// Apply a reloaded file's sources and sinks.
#[derive(Message)]
#[rtype(result = "Result<ReloadReport, ConfigErrors>")]
pub struct Reload {
    /// The file's sources.
    pub sources: Vec<SourceConfig>,
    /// The file's sinks.
    pub sinks: Vec<SinkConfig>,
    /// Where the overlay's `${VAR}` references are looked up.
    pub vars: Arc<dyn VarSource + Send + Sync>,
    /// Time allowed to each graceful stop.
    pub grace: Duration,
}

/// What a reload did, by actor id.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ReloadReport {
    /// Started.
    pub added: Vec<String>,
    /// Stopped and started from their new entry.
    pub changed: Vec<String>,
    /// Stopped and forgotten.
    pub removed: Vec<String>,
    /// Left running as they were.
    pub unchanged: Vec<String>,
}

impl Handler<Reload> for Supervisor {
    type Result = ResponseActFuture<Self, Result<ReloadReport, ConfigErrors>>;

    fn handle(&mut self, msg: Reload, _ctx: &mut Self::Context) -> Self::Result {
        let plan = match reconcile(&msg.sources, &msg.sinks, &self.desired, &*msg.vars) {
            Ok(p) => p,
            Err(e) => return Box::pin(actix::fut::ready(Err(e))),
        };
        let from_admin = |id: &str| self.desired.actors.get(id).is_some_and(|o| o.body.is_some());
        let wanted: BTreeMap<String, (ChildConfig, Origin)> = plan
            .children
            .into_iter()
            .map(|c| {
                let origin = if from_admin(c.id()) { Origin::Admin } else { Origin::Config };
                (c.id().to_owned(), (c, origin))
            })
            .collect();
        let mut report = ReloadReport::default();
        for (id, child) in &self.children {
            match wanted.get(id) {
                None => report.removed.push(id.clone()),
                Some((c, _)) if *c != child.config => report.changed.push(id.clone()),
                Some(_) => report.unchanged.push(id.clone()),
            }
        }
        report.added = wanted.keys().filter(|id| !self.children.contains_key(*id)).cloned().collect();
        // Mark them stopped first, so their exits are not taken for crashes.
        let mut stops = Vec::new();
        for id in report.removed.iter().chain(&report.changed) {
            if let Some(c) = self.stored_control(id) {
                stops.push(c);
            }
            self.set_state(id, ChildState::Stopped);
        }
        let grace = msg.grace;
        let stopped = futures::future::join_all(stops.into_iter().map(move |c| c.send(Control::Stop { grace })));
        let paused = plan.paused;
        Box::pin(stopped.into_actor(self).map(move |_, act, ctx| {
            act.apply(&report, wanted, &paused, ctx);
            Ok(report)
        }))
    }
}

impl Supervisor {
    /// Once the stops are done: forget the removed, start the changed and the added.
    fn apply(
        &mut self,
        report: &ReloadReport,
        mut wanted: BTreeMap<String, (ChildConfig, Origin)>,
        paused: &[String],
        ctx: &mut Context<Self>,
    ) {
        for id in &report.removed {
            self.forget(id);
        }
        for id in report.changed.iter().chain(&report.added) {
            let Some((config, origin)) = wanted.remove(id) else { continue };
            let mut child = Child::new(config, RestartDelay::new(&self.policy));
            child.origin = origin;
            // A new incarnation: its generation keeps counting, so a late exit report of the
            // stopped one is ignored.
            child.generation = self.children.get(id).map_or(0, |c| c.generation);
            self.children.insert(id.clone(), child);
            self.spawn(id, ctx);
            if paused.contains(id)
                && let Some(c) = self.children.get(id).and_then(|c| c.control.clone())
            {
                c.do_send(Control::Pause);
                self.set_state(id, ChildState::Paused);
            }
        }
    }
}

/// Reads the config again (the file `run` started with).
pub type ConfigSource = Arc<dyn Fn() -> Result<crate::config::Config, ConfigErrors> + Send + Sync>;

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// This instance was not started from a file (tests, embedded use).
    #[error("this instance was not started from a config file; nothing to reload")]
    NoFile,
    /// The file does not load or validate; the running config stays.
    #[error("the config file is refused; the running config stays: {0}")]
    Invalid(#[source] ConfigErrors),
    /// The supervisor did not answer.
    #[error("the supervisor did not answer: {0}")]
    Mailbox(#[from] MailboxError),
}

/// Reloads: reads the file, validates it, applies the sources and sinks; shared by SIGHUP and
/// the admin API, one reload at a time.
pub struct Reloader {
    supervisor: Addr<Supervisor>,
    source: Option<ConfigSource>,
    vars: Arc<dyn VarSource + Send + Sync>,
    /// The config in force (its non-actor sections are compared with the new file's).
    current: tokio::sync::Mutex<crate::config::Config>,
}

/// The sections a reload does not apply (a restart does).
const NOT_RELOADED: [&str; 10] =
    ["kafka", "topics", "pix", "routing", "formats", "duplicates", "telemetry", "supervision", "shutdown", "admin"];

impl Reloader {
    /// A reloader of `source` (none: reload answers `NoFile`) for the app now running `current`.
    pub fn new(
        supervisor: Addr<Supervisor>,
        source: Option<ConfigSource>,
        vars: Arc<dyn VarSource + Send + Sync>,
        current: crate::config::Config,
    ) -> Self {
        Self { supervisor, source, vars, current: tokio::sync::Mutex::new(current) }
    }

    /// Reads, validates and applies the file; logs the outcome either way.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let out = self.try_reload().await;
        match &out {
            Ok(r) => tracing::info!(added = ?r.added, changed = ?r.changed, removed = ?r.removed,
                unchanged = r.unchanged.len(), "Config reloaded."),
            Err(error) => tracing::error!(%error, "Config reload refused; the running config stays."),
        }
        out
    }

    async fn try_reload(&self) -> Result<ReloadReport, ReloadError> {
        let Some(source) = &self.source else { return Err(ReloadError::NoFile) };
        let mut current = self.current.lock().await;
        let new = source().map_err(ReloadError::Invalid)?;
        let (old_v, new_v) = (serde_json::to_value(&*current).ok(), serde_json::to_value(&new).ok());
        let moved: Vec<&str> = NOT_RELOADED
            .into_iter()
            .filter(|s| old_v.as_ref().and_then(|v| v.get(s)) != new_v.as_ref().and_then(|v| v.get(s)))
            .collect();
        if !moved.is_empty() {
            tracing::warn!(sections = ?moved, "These sections changed in the file; a reload applies only sources and sinks, they take effect at the next restart.");
        }
        let msg = Reload {
            sources: new.sources.clone(),
            sinks: new.sinks.clone(),
            vars: Arc::clone(&self.vars),
            grace: new.shutdown.grace,
        };
        let report = self.supervisor.send(msg).await?.map_err(ReloadError::Invalid)?;
        current.sources = new.sources;
        current.sinks = new.sinks;
        Ok(report)
    }
}
