//! Sources: one actor each, registered in the closed `SourceConfig` enum. A source decodes its
//! own wire format, runs the shared validator and hands the result to `pipeline::submit`, which
//! routes the valid events, dead-letters the rest and tells the source what is durable.

pub mod decoding;
pub mod file;
pub mod generator;
pub mod http;
pub mod pipeline;

use std::sync::Arc;

use actix::prelude::*;
use pix_domain::Ispb;
use pix_domain::validate::CheckDigitPolicy;

use crate::config::SourceConfig;
use crate::dead_letter::DeadLetterBatch;
use crate::router::RouteBatch;
use crate::supervisor::task::{Placement, TaskActor};
use crate::supervisor::{ChildGuard, Control};

/// What every source needs from the rest of the app.
#[derive(Clone)]
pub struct SourceDeps {
    /// The router (stable across its restarts).
    pub router: Recipient<RouteBatch>,
    /// The dead-letter actor (stable across its restarts).
    pub dead_letter: Recipient<DeadLetterBatch>,
    /// Shared validation settings.
    pub validation: Arc<ValidationSettings>,
    /// The app's metrics.
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
}

/// Validator inputs that come from config.
#[derive(Debug, Clone)]
pub struct ValidationSettings {
    /// `pix.own_ispbs`.
    pub own_ispbs: Vec<Ispb>,
    /// `pix.tax_id_check_digits`.
    pub check_digits: CheckDigitPolicy,
}

impl SourceConfig {
    /// Starts the actor of this source; the guard reports its exit to the supervisor.
    pub fn start(self, deps: SourceDeps, guard: ChildGuard) -> Recipient<Control> {
        match self {
            Self::Http(c) => http::HttpSource::new(c, deps, guard).start().recipient(),
            Self::File(c) => TaskActor::new(guard, file::task(c, deps), Placement::Current).start().recipient(),
            Self::Generator(c) => {
                TaskActor::new(guard, generator::task(c, deps), Placement::Current).start().recipient()
            }
        }
    }

    /// The `type` of the source.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::File(_) => "file",
            Self::Generator(_) => "generator",
        }
    }
}
