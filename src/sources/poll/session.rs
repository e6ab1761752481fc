//! The run-time half every poller shares, so that a poller's own module holds only what its API
//! means (cursor, paging, splitting a page): starting the poller as a supervised task, one page
//! fetched with retries (the server's `Retry-After` first, then exponential backoff, stopped at
//! once when asked to), a submission to the shared pipeline, the state written on the blocking
//! pool, and the progress shown by the admin API.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::{Api, Attempt};
use super::state::State;
use super::{PollError, backoff};
use crate::lifecycle::task::{Placement, RunSignal, RunState, TaskActor, TaskEnd, blocking, is_stopping};
use crate::lifecycle::{ChildGuard, Control, ProgressReporter};
use crate::sources::SourceDeps;
use crate::sources::pipeline::{ItemInput, Submission};
use crate::telemetry::propagation::TraceParent;

/// How long one submission may wait for Kafka before its unavailable records are retried.
const SUBMIT_DEADLINE: Duration = Duration::from_secs(30);

/// Starts a poller's `run` as a supervised task on the supervisor's arbiter; its end (an error
/// included) is reported to the supervisor, which restarts it with backoff.
pub fn start<C, F, Fut>(cfg: C, deps: SourceDeps, guard: ChildGuard, run: F) -> actix::Recipient<Control>
where
    C: Send + 'static,
    F: FnOnce(C, SourceDeps, ProgressReporter, RunSignal) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), PollError>> + 'static,
{
    use actix::Actor;
    let progress = guard.progress_reporter();
    let factory = Box::new(move |stop| {
        Box::pin(async move {
            match run(cfg, deps, progress, stop).await {
                Ok(()) => TaskEnd::Stopped,
                Err(e) => TaskEnd::Failed(e.to_string()),
            }
        }) as futures::future::LocalBoxFuture<'static, TaskEnd>
    });
    TaskActor::new(guard, factory, Placement::Current).start().recipient()
}

/// How a page that was not read is retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// First computed delay.
    pub initial: Duration,
    /// Largest computed delay.
    pub max: Duration,
    /// Longest `Retry-After` obeyed.
    pub max_retry_after: Duration,
}

/// What one running poller shares with the others.
pub struct Session {
    /// The source id.
    pub id: Arc<str>,
    /// The pipeline, metrics and validation settings.
    pub deps: SourceDeps,
    api: Api,
    retry: Retry,
    progress: ProgressReporter,
    last_poll_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    /// Pages published since start.
    pub pages_read: u64,
}

impl Session {
    /// A session of source `id` calling `api`.
    pub fn new(id: &str, deps: SourceDeps, api: Api, retry: Retry, progress: ProgressReporter) -> Self {
        let id = Arc::from(id);
        Self { id, deps, api, retry, progress, last_poll_at: None, last_error: None, pages_read: 0 }
    }

    /// Gets `url?query`, retrying until a page comes, the API refuses for good, or the poller is
    /// asked to stop (`None`: nothing of the page was used). `what` names the page in the log.
    pub async fn fetch<C: Serialize>(
        &mut self,
        url: &str,
        query: &[(&'static str, String)],
        what: &str,
        state: &State<C>,
        stop: &mut RunSignal,
    ) -> Result<Option<Vec<u8>>, PollError> {
        let mut delays = backoff(self.retry.initial, self.retry.max);
        loop {
            let attempt = tokio::select! {
                a = self.api.page(url, query) => a,
                _ = stop.wait_for(|s| *s == RunState::Stopping) => return Ok(None),
            };
            self.last_poll_at = Some(Utc::now());
            let (after, why) = match attempt {
                Attempt::Page(body) => {
                    self.last_error = None;
                    return Ok(Some(body));
                }
                Attempt::Refused(why) => return Err(PollError::Refused(why)),
                Attempt::Retry { after, why } => (after, why),
            };
            let delay =
                after.map_or_else(|| delays.next().unwrap_or(self.retry.max), |a| a.min(self.retry.max_retry_after));
            tracing::warn!(source = %self.id, page = what, %why, ?delay, "Page not read; retrying.");
            self.last_error = Some(why);
            self.report(state);
            let _ = tokio::time::timeout(delay, stop.wait_for(|s| *s == RunState::Stopping)).await;
            if is_stopping(stop) {
                return Ok(None);
            }
        }
    }

    /// A submission of `items` to the pipeline, with a bounded wait for Kafka.
    pub fn submission(&self, items: Vec<ItemInput>, content_type: &str) -> Submission {
        Submission {
            source_id: self.id.clone(),
            content_type: content_type.into(),
            received_at: Utc::now(),
            trace: TraceParent::continue_or_new(None, None),
            items,
            deadline: tokio::time::Instant::now() + SUBMIT_DEADLINE,
            client: None,
        }
    }

    /// Waits before submitting again what Kafka did not acknowledge, the state saved first (so a
    /// restart meanwhile drops what was taken). `false`: asked to stop.
    pub async fn before_retry<C: Clone + Serialize + DeserializeOwned>(
        &self,
        state: &State<C>,
        pending: usize,
        delays: &mut impl Iterator<Item = Duration>,
        stop: &RunSignal,
    ) -> Result<bool, PollError> {
        save(state).await?;
        if is_stopping(stop) {
            return Ok(false);
        }
        let delay = delays.next().unwrap_or(Duration::from_secs(10));
        tracing::warn!(source = %self.id, items = pending, ?delay, "Kafka did not acknowledge; retrying those items.");
        tokio::time::sleep(delay).await;
        Ok(true)
    }

    /// Publishes the cursor and the last poll to the admin API.
    pub fn report<C: Serialize>(&self, state: &State<C>) {
        self.progress.report(serde_json::json!({
            "cursor": state.cursor,
            "last_poll_at": self.last_poll_at,
            "last_error": self.last_error,
            "pages_read": self.pages_read,
            "tokens_issued": self.api.tokens_issued,
            "recent_ids": state.recent.len(),
        }));
    }
}

/// Writes the state durably, on the blocking pool.
pub async fn save<C: Clone + Serialize + DeserializeOwned>(state: &State<C>) -> Result<(), PollError> {
    let encoded = state.encoded()?;
    Ok(blocking(move || encoded.write()).await?)
}
