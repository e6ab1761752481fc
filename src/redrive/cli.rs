//! `pix-ingest dlq list` and `pix-ingest dlq redrive`: the selection as flags, the answer as
//! JSON (the same documents as the admin API's). `main.rs` loads the config and picks exit codes.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::{Instance, RedriveError, Selection};

/// What `dlq` does.
#[derive(Debug, clap::Subcommand)]
pub enum DlqAction {
    /// Masked summaries of the selected dead letters.
    List(DlqArgs),
    /// Decode and validate the selected dead letters again with the config, publish the valid
    /// ones (same event id, header `pix-redriven-from`), report the rest; a second run of the same
    /// selection goes on where the first stopped.
    Redrive {
        /// The selection.
        #[command(flatten)]
        args: DlqArgs,
        /// Forget the progress of earlier runs of this selection; start from its oldest dead letter.
        #[arg(long)]
        restart: bool,
    },
}

/// The selection of `dlq list` and `dlq redrive`, and the config.
#[derive(Debug, clap::Args)]
pub struct DlqArgs {
    /// YAML config file, chosen as for `run`.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Only dead letters with this reason code (any of their reasons).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only this stage: decode, validate, produce, sink_decode, sink_write.
    #[arg(long)]
    pub stage: Option<String>,
    /// Only dead letters of this source (or sink) id.
    #[arg(long)]
    pub source: Option<String>,
    /// Only those received at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Only those received before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    /// list: most summaries (default 100, at most 1000); redrive: most dead letters this run
    /// (default 10000, at most 100000).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl DlqAction {
    /// The `--config` given.
    pub fn config(&self) -> Option<&PathBuf> {
        self.args().config.as_ref()
    }

    fn args(&self) -> &DlqArgs {
        match self {
            Self::List(args) | Self::Redrive { args, .. } => args,
        }
    }

    /// The selection the flags make.
    pub fn selection(&self) -> Selection {
        let a = self.args();
        Selection {
            reason: a.reason.clone(),
            stage: a.stage.clone(),
            source: a.source.clone(),
            since: a.since,
            until: a.until,
            limit: a.limit,
            restart: matches!(self, Self::Redrive { restart: true, .. }),
        }
    }

    /// Runs it; the JSON answer (a listing or a redrive report).
    pub async fn answer(&self, instance: &Instance) -> Result<String, RedriveError> {
        let selection = self.selection();
        let json = match self {
            Self::List(_) => serde_json::to_string_pretty(&super::list(instance, &selection).await?),
            Self::Redrive { .. } => serde_json::to_string_pretty(&super::redrive(instance, &selection, "cli").await?),
        };
        json.map_err(|e| RedriveError::Internal(e.to_string()))
    }
}
