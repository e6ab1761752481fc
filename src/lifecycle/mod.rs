//! What a supervised actor knows about supervision, and nothing more: the control messages it obeys
//! (`Control`), the guard whose drop reports its exit (`ChildGuard`), the restart policy
//! (`RestartDelay` and its `SupervisionConfig`) and the actor around one long-running task
//! (`task`). A leaf: sources, sinks, the router and the dead-letter actor use it, and the
//! supervisor builds on it, so no component ever names the supervisor itself.

mod guard;
mod restart;
mod status;
pub mod task;

pub use guard::{
    ChildBound, ChildExited, ChildGuard, ChildProgress, Control, ExitReport, Flush, ProgressReporter, Restart,
};
pub use restart::{RestartDelay, SupervisionConfig};
pub use status::ActorStatus;
