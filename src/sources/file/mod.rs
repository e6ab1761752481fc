//! The file source: follows files matching a glob (system logs), decodes each line with the
//! configured format, and advances its durable checkpoint only after the router acknowledged
//! every line of a batch (or its dead letter did). A restart or a crash resumes at the checkpoint:
//! acknowledged lines are not re-sent, unacknowledged ones are not lost.

mod checkpoint;
pub mod config;
mod tail;

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;

use self::config::FileSourceConfig;
use self::tail::{Batch, Tailer};
use crate::dead_letter::{DlqReason, Stage};
use crate::lifecycle::task::{Placement, RunSignal, TaskActor, TaskEnd, TaskFactory, blocking, wait_while_paused};
use crate::lifecycle::{ChildGuard, Control};
use crate::sources::decoding::decode_line;
use crate::sources::pipeline::{ItemInput, RecordStatus, Submission, submit};
use crate::sources::{CheckContext, SourceDeps, SourceKind};
use crate::telemetry::propagation::TraceParent;
use pix_domain::formats::Format;

/// How long one submission may wait for Kafka before its unavailable lines are retried.
const SUBMIT_DEADLINE: Duration = Duration::from_secs(30);

impl SourceKind for FileSourceConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn format(&self) -> pix_domain::formats::Format {
        self.format
    }
    fn problems(&self, ctx: &CheckContext) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Err(e) = glob::Pattern::new(&self.path) {
            out.push(("path", format!("not a glob pattern: {e}")));
        }
        if !self.format.wire().line_oriented() {
            let lines = crate::sources::format_names(|f| f.wire().line_oriented());
            out.push(("format", format!("`{}` is not read line by line; expected one of {lines}", self.format.name())));
        }
        if self.batch_lines == 0 {
            out.push(("batch_lines", "expected a positive number".into()));
        }
        if self.max_line_bytes == 0 {
            out.push(("max_line_bytes", "expected a positive number".into()));
        }
        if let Some(problem) = ctx.record_size_problem(self.max_line_bytes) {
            out.push(("max_line_bytes", problem));
        }
        out
    }
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> actix::Recipient<Control> {
        use actix::Actor;
        TaskActor::new(guard, task(self.clone(), deps), Placement::Current).start().recipient()
    }
}

/// Why a file source stopped (the supervisor restarts it).
#[derive(Debug, thiserror::Error)]
enum FileSourceError {
    /// The checkpoint cannot be read.
    #[error("cannot load the checkpoint: {0}")]
    Checkpoint(#[source] std::io::Error),
    /// The files cannot be listed or read.
    #[error("cannot read files: {0}")]
    Read(#[source] std::io::Error),
    /// The checkpoint cannot be written.
    #[error("cannot write the checkpoint: {0}")]
    Commit(#[source] std::io::Error),
}

/// The task of a file source: follow, submit, checkpoint, until asked to stop.
pub fn task(cfg: FileSourceConfig, deps: SourceDeps) -> TaskFactory {
    Box::new(move |stop| {
        Box::pin(async move {
            match run(cfg, deps, stop).await {
                Ok(()) => TaskEnd::Stopped,
                Err(e) => TaskEnd::Failed(e.to_string()),
            }
        })
    })
}

async fn run(cfg: FileSourceConfig, deps: SourceDeps, mut stop: RunSignal) -> Result<(), FileSourceError> {
    let id: Arc<str> = Arc::from(cfg.id.as_str());
    let poll = cfg.poll_interval;
    let format = cfg.format;
    let mut tailer = blocking({
        let cfg = cfg.clone();
        move || Tailer::new(cfg)
    })
    .await
    .map_err(FileSourceError::Checkpoint)?;
    loop {
        if !wait_while_paused(&mut stop).await {
            return Ok(());
        }
        let (t, batch) = blocking(move || {
            let r = tailer.scan().and_then(|()| tailer.next_batch());
            (tailer, r)
        })
        .await;
        tailer = t;
        let batch = batch.map_err(FileSourceError::Read)?;
        let Some(batch) = batch else {
            let _ = tokio::time::timeout(poll, stop.changed()).await;
            continue;
        };
        deliver(&id, format, &deps, &batch).await;
        let (t, r) = blocking(move || {
            let r = tailer.commit(&batch);
            (tailer, r)
        })
        .await;
        tailer = t;
        r.map_err(FileSourceError::Commit)?;
    }
}

/// Submits a batch until every line is accepted or durably rejected; lines Kafka could not take
/// are retried (only those) with backoff. Returns only then: the checkpoint may advance.
async fn deliver(id: &Arc<str>, format: Format, deps: &SourceDeps, batch: &Batch) {
    let mut pending: Vec<usize> = (0..batch.lines.len()).collect();
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build();
    let trace = TraceParent::continue_or_new(None, None);
    loop {
        let received_at = Utc::now();
        let items: Vec<ItemInput> =
            pending.iter().flat_map(|&i| decode_one(format, i, &batch.lines[i], deps, id, received_at)).collect();
        let report = submit(
            deps,
            Submission {
                source_id: id.clone(),
                content_type: "application/x-ndjson".into(),
                received_at,
                trace: trace.clone(),
                items,
                deadline: tokio::time::Instant::now() + SUBMIT_DEADLINE,
                client: None,
            },
        )
        .await;
        let mut unavailable: Vec<usize> =
            report.results.iter().filter(|r| r.status == RecordStatus::Unavailable).map(|r| r.index).collect();
        unavailable.dedup();
        if unavailable.is_empty() {
            return;
        }
        let delay = delays.next().unwrap_or(Duration::from_secs(10));
        tracing::warn!(source = %id, lines = unavailable.len(), ?delay, "Kafka did not acknowledge; retrying those lines.");
        tokio::time::sleep(delay).await;
        pending = unavailable;
    }
}

fn decode_one(
    format: Format,
    index: usize,
    (line, cut): &(Vec<u8>, bool),
    deps: &SourceDeps,
    id: &str,
    received_at: chrono::DateTime<Utc>,
) -> Vec<ItemInput> {
    if *cut {
        let reason = DlqReason {
            code: "payload.too_large".into(),
            path: String::new(),
            detail: "the line is longer than max_line_bytes; its first max_line_bytes bytes are kept".into(),
        };
        return vec![ItemInput {
            index,
            bytes: line.clone(),
            verdict: Err((Stage::Decode, vec![reason])),
            end_to_end_id: None,
        }];
    }
    decode_line(format, index, line, &deps.validation, id, received_at)
}
