//! A child that is one long-running task (file tailing, generation, a sink's consume loop): the
//! actor owns the task, asks it to stop through a watch channel, and stops with it. A panic in the
//! task ends the task; the actor then records the crash in its `ChildGuard`, so the supervisor
//! restarts the child. With `Placement::Dedicated` the task runs on an arbiter (thread) of its own,
//! so a blocking or slow child (the Delta kernel blocks its thread) never holds back another.

use actix::prelude::*;
use futures::future::LocalBoxFuture;
use tokio::sync::watch;

use super::{ChildGuard, Control};

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

/// What the supervisor asks of a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Work.
    Running,
    /// Take no input (a sink pauses its partitions); keep state, wait for `Running`.
    Paused,
    /// Finish the current batch (flush, commit), then end.
    Stopping,
}

/// The task's view of its run state.
pub type RunSignal = watch::Receiver<RunState>;

/// Waits while paused; returns `false` when the task must stop.
pub async fn wait_while_paused(signal: &mut RunSignal) -> bool {
    loop {
        match *signal.borrow_and_update() {
            RunState::Running => return true,
            RunState::Stopping => return false,
            RunState::Paused => {}
        }
        if signal.changed().await.is_err() {
            return false;
        }
    }
}

/// Whether the task has been asked to stop.
pub fn is_stopping(signal: &RunSignal) -> bool {
    *signal.borrow() == RunState::Stopping
}

/// Runs blocking code (file I/O) on the blocking pool. A panic there is re-raised in the calling
/// task, which the actor reports as a crash (and the supervisor restarts the child).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(_) => std::panic::resume_unwind(Box::new("blocking task cancelled")),
        },
    }
}

/// Builds the task (on the thread that runs it); it watches its `RunSignal`.
pub type TaskFactory = Box<dyn FnOnce(RunSignal) -> LocalBoxFuture<'static, TaskEnd> + Send>;

/// Where the task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the supervisor's arbiter.
    Current,
    /// On an arbiter of its own, stopped with the actor.
    Dedicated,
}

/// The actor around a task.
pub struct TaskActor {
    guard: ChildGuard,
    factory: Option<TaskFactory>,
    placement: Placement,
    state: Option<watch::Sender<RunState>>,
    arbiter: Option<actix::Arbiter>,
    /// Becomes `true` when the task has ended (a graceful stop waits for it).
    finished: (watch::Sender<bool>, watch::Receiver<bool>),
}

impl TaskActor {
    /// An actor that starts `factory`'s task when started.
    pub fn new(guard: ChildGuard, factory: TaskFactory, placement: Placement) -> Self {
        Self { guard, factory: Some(factory), placement, state: None, arbiter: None, finished: watch::channel(false) }
    }
}

impl Actor for TaskActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let (tx, rx) = watch::channel(RunState::Running);
        self.state = Some(tx);
        let Some(factory) = self.factory.take() else { return };
        // The task reports its end through a oneshot; a panic drops the sender (Canceled).
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let run = move || {
            actix_rt::spawn(async move {
                let _ = done_tx.send(factory(rx).await);
            });
        };
        match self.placement {
            Placement::Current => run(),
            Placement::Dedicated => {
                let arbiter = actix::Arbiter::new();
                if !arbiter.spawn_fn(run) {
                    self.guard.fail("cannot start the task's arbiter");
                    ctx.stop();
                    return;
                }
                self.arbiter = Some(arbiter);
            }
        }
        ctx.spawn(done_rx.into_actor(self).map(|res, act, ctx| {
            match res {
                Ok(TaskEnd::Stopped) => {}
                Ok(TaskEnd::Completed) => act.guard.complete(),
                Ok(TaskEnd::Failed(e)) => act.guard.fail(e),
                Err(_) => act.guard.fail("the task panicked"),
            }
            let _ = act.finished.0.send(true);
            ctx.stop();
        }));
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let Some(a) = self.arbiter.take() {
            a.stop();
        }
    }
}

impl Handler<Control> for TaskActor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: Control, _ctx: &mut Self::Context) -> Self::Result {
        match msg {
            Control::Stop { grace } => {
                // The task finishes its current batch (nothing acknowledged is re-sent, a sink
                // flushes and commits), then ends; the actor stops with it. Wait for that.
                if let Some(tx) = &self.state {
                    let _ = tx.send(RunState::Stopping);
                }
                let mut finished = self.finished.1.clone();
                Box::pin(async move {
                    if tokio::time::timeout(grace, finished.wait_for(|done| *done)).await.is_err() {
                        tracing::warn!("A task did not finish within the grace period.");
                    }
                })
            }
            Control::Pause | Control::Resume => {
                let next = if matches!(msg, Control::Pause) { RunState::Paused } else { RunState::Running };
                if let Some(tx) = &self.state {
                    tx.send_if_modified(|s| {
                        let change = *s != RunState::Stopping && *s != next;
                        if change {
                            *s = next;
                        }
                        change
                    });
                }
                Box::pin(async {})
            }
        }
    }
}
