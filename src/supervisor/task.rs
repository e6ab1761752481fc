//! A source that is one long-running task (file tailing, generation): the actor owns the task,
//! asks it to stop through a watch channel, and stops with it. A panic in the task ends the task;
//! the actor then records the crash in its `ChildGuard` so the supervisor restarts the source.

use actix::prelude::*;
use futures::future::LocalBoxFuture;
use tokio::sync::watch;

use crate::sources::SourceControl;
use crate::supervisor::ChildGuard;

/// How a source task ended.
#[derive(Debug)]
pub enum TaskEnd {
    /// It was asked to stop and did.
    Stopped,
    /// It finished its work (a generator's total): not restarted.
    Completed,
    /// It failed: restarted by the supervisor.
    Failed(String),
}

/// Builds the task; it watches the receiver for `true` (stop after the current batch).
pub type TaskFactory = Box<dyn FnOnce(watch::Receiver<bool>) -> LocalBoxFuture<'static, TaskEnd>>;

/// The actor around a source task.
pub struct TaskSource {
    guard: ChildGuard,
    factory: Option<TaskFactory>,
    stop: Option<watch::Sender<bool>>,
}

impl TaskSource {
    /// An actor that starts `factory`'s task when started.
    pub fn new(guard: ChildGuard, factory: TaskFactory) -> Self {
        Self { guard, factory: Some(factory), stop: None }
    }
}

impl Actor for TaskSource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let (tx, rx) = watch::channel(false);
        self.stop = Some(tx);
        let Some(factory) = self.factory.take() else { return };
        let task = actix_rt::spawn(factory(rx));
        ctx.spawn(task.into_actor(self).map(|res, act, ctx| {
            match res {
                Ok(TaskEnd::Stopped) => {}
                Ok(TaskEnd::Completed) => act.guard.complete(),
                Ok(TaskEnd::Failed(e)) => act.guard.fail(e),
                Err(join) => act.guard.fail(format!("the source task panicked: {join}")),
            }
            ctx.stop();
        }));
    }
}

impl Handler<SourceControl> for TaskSource {
    type Result = ();
    fn handle(&mut self, msg: SourceControl, _ctx: &mut Self::Context) {
        match msg {
            SourceControl::Stop { .. } => {
                // The task finishes its current batch (nothing acknowledged is re-sent), then ends;
                // the actor stops with it.
                if let Some(tx) = &self.stop {
                    let _ = tx.send(true);
                }
            }
        }
    }
}
