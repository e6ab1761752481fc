//! The child side of supervision: `Control` commands, and the `ChildGuard` a child actor holds.
//!
//! The guard's `Drop` sends `ChildExited`, which covers a clean stop, an error and a panic alike
//! (actix drops an actor whose handler panicked). It holds only `Recipient`s of the two report
//! messages, never the supervisor's address, so a child depends on this module alone.

use std::net::SocketAddr;
use std::time::Duration;

use actix::prelude::*;

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

/// Asks a pipeline actor (router, dead letter) to restart: it stops, and actix's supervisor
/// starts it again with a fresh producer.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Restart;

/// Flushes a producing actor (at shutdown): waits up to `timeout` for queued records.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Flush {
    /// How long to wait.
    pub timeout: Duration,
}

/// Sent by a `ChildGuard` when its actor is gone, whatever the reason.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct ChildExited {
    /// The child.
    pub id: String,
    /// Which incarnation exited (an older one's report is ignored).
    pub generation: u64,
    /// Why it stopped, when it failed.
    pub error: Option<String>,
    /// The child finished its work (a generator that reached its total): not a crash.
    pub completed: bool,
}

/// Sent by a listener once it is bound.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct ChildBound {
    /// The child.
    pub id: String,
    /// Its incarnation.
    pub generation: u64,
    /// The bound address.
    pub addr: SocketAddr,
}

/// Sent by a child that has progress to show (a poller's cursor and last poll time): shown as
/// `progress` in the admin API's entry of the child, replaced at every report.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct ChildProgress {
    /// The child.
    pub id: String,
    /// Its incarnation.
    pub generation: u64,
    /// What it reports (a JSON object of its own shape; never a secret).
    pub progress: serde_json::Value,
}

/// Where a guard sends its reports.
#[derive(Clone)]
pub struct ExitReport {
    /// Receives the exit.
    pub exited: Recipient<ChildExited>,
    /// Receives the bound address of a listener.
    pub bound: Recipient<ChildBound>,
    /// Receives the progress reports of a child.
    pub progress: Recipient<ChildProgress>,
}

/// A cloneable handle a child's task uses to report its progress (see [`ChildProgress`]).
#[derive(Clone)]
pub struct ProgressReporter {
    id: String,
    generation: u64,
    to: Recipient<ChildProgress>,
}

impl ProgressReporter {
    /// Reports `progress` (replacing the previous report).
    pub fn report(&self, progress: serde_json::Value) {
        self.to.do_send(ChildProgress { id: self.id.clone(), generation: self.generation, progress });
    }
}

/// Held by a child actor; its drop tells the supervisor the child is gone.
pub struct ChildGuard {
    id: String,
    generation: u64,
    error: Option<String>,
    completed: bool,
    report: ExitReport,
}

impl ChildGuard {
    /// A guard for incarnation `generation` of child `id`.
    pub fn new(id: impl Into<String>, generation: u64, report: ExitReport) -> Self {
        Self { id: id.into(), generation, error: None, completed: false, report }
    }
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
        self.report.bound.do_send(ChildBound { id: self.id.clone(), generation: self.generation, addr });
    }
    /// A handle for the child's task to report its progress with.
    pub fn progress_reporter(&self) -> ProgressReporter {
        ProgressReporter { id: self.id.clone(), generation: self.generation, to: self.report.progress.clone() }
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
        self.report.exited.do_send(ChildExited { id: self.id.clone(), generation: self.generation, error, completed });
    }
}
