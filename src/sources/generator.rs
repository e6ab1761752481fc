//! The generator source: synthetic Pix events (valid, and a configured share of invalid ones) at a
//! configured rate, through the same validation, routing and dead-lettering as real input. For
//! demos and load tests. Config and task in one small file; the actor is `TaskSource`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use pix_domain::formats::Format;

use crate::lifecycle::task::{Placement, RunSignal, TaskActor, TaskEnd, TaskFactory, wait_while_paused};
use crate::lifecycle::{ChildGuard, Control};
use crate::sources::decoding::decode_line;
use crate::sources::pipeline::{Submission, submit};
use crate::sources::{CheckContext, SourceDeps, SourceKind};
use crate::synth::Synth;
use crate::telemetry::propagation::TraceParent;

/// `type: generator` source.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSourceConfig {
    /// Unique id (`[a-z0-9-]`).
    pub id: String,
    /// Events per second.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Events per batch sent to the router.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Share of events that break a hard rule (they end in the dead-letter topic).
    #[serde(default = "default_invalid_ratio")]
    pub invalid_ratio: f64,
    /// Stop after this many events (default: never).
    #[serde(default)]
    pub total: Option<u64>,
    /// Random seed (default: from the clock).
    #[serde(default)]
    pub seed: Option<u64>,
}

fn default_rate() -> f64 {
    10.0
}
const fn default_batch() -> usize {
    10
}
fn default_invalid_ratio() -> f64 {
    0.05
}

impl SourceKind for GeneratorSourceConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn format(&self) -> pix_domain::formats::Format {
        pix_domain::formats::Format::Canonical
    }
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> actix::Recipient<Control> {
        use actix::Actor;
        TaskActor::new(guard, task(self.clone(), deps), Placement::Current).start().recipient()
    }
    fn problems(&self, _ctx: &CheckContext) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(self.rate > 0.0 && self.rate <= 1_000_000.0) {
            out.push(("rate", "expected a number of events per second in (0, 1000000]".into()));
        }
        if self.batch == 0 {
            out.push(("batch", "expected a positive number".into()));
        }
        if !(0.0..=1.0).contains(&self.invalid_ratio) {
            out.push(("invalid_ratio", "expected a share between 0 and 1".into()));
        }
        out
    }
}

/// The task of a generator source.
pub fn task(cfg: GeneratorSourceConfig, deps: SourceDeps) -> TaskFactory {
    Box::new(move |stop| Box::pin(run(cfg, deps, stop)))
}

async fn run(cfg: GeneratorSourceConfig, deps: SourceDeps, mut stop: RunSignal) -> TaskEnd {
    let own = deps.validation.own_ispbs.first().map(|i| i.as_str().to_owned()).unwrap_or_else(|| "99999010".into());
    let seed = cfg.seed.unwrap_or_else(|| Utc::now().timestamp_micros().unsigned_abs());
    let mut synth = Synth::new(seed, &own, cfg.invalid_ratio);
    let id: Arc<str> = Arc::from(cfg.id.as_str());
    let period = Duration::from_secs_f64(cfg.batch as f64 / cfg.rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {
                if !wait_while_paused(&mut stop).await {
                    return TaskEnd::Stopped;
                }
                continue;
            }
        }
        let n = match cfg.total {
            Some(total) if sent >= total => return TaskEnd::Completed,
            Some(total) => (total - sent).min(cfg.batch as u64) as usize,
            None => cfg.batch,
        };
        let received_at = Utc::now();
        let items = (0..n)
            .flat_map(|i| decode_line(Format::Canonical, i, &synth.next_event().0, &deps.validation, &id, received_at))
            .collect();
        let report = submit(
            &deps,
            Submission {
                source_id: id.clone(),
                content_type: "application/json".into(),
                received_at,
                trace: TraceParent::continue_or_new(None, None),
                items,
                deadline: tokio::time::Instant::now() + Duration::from_secs(30),
                client: None,
            },
        )
        .await;
        if report.unavailable > 0 {
            tracing::warn!(source = %id, unavailable = report.unavailable, "Generated events not acknowledged (synthetic; not retried).");
        }
        sent += n as u64;
    }
}
