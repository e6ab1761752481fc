//! [`DeltaSinkError`]: every way the writer fails, with the table and step, classified by
//! [`DeltaSinkError::is_retryable`] so the sink can retry with backoff or stop.

use deltalake::DeltaTableError;
use deltalake::kernel::transaction::{CommitConflictError, TransactionError};

/// The step of the writer that failed (for logs and metric labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Opening (loading) the table.
    Open,
    /// Creating the table.
    Create,
    /// Reloading the table state to read txn versions.
    Refresh,
    /// Reading a txn (application transaction) version.
    ReadTxn,
    /// Reading the event ids a topic-partition holds back from the table.
    ReadIds,
    /// Encoding and uploading the parquet files.
    WriteFiles,
    /// Committing data files and txn actions to the Delta log.
    Commit,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Open => "open",
            Step::Create => "create",
            Step::Refresh => "refresh",
            Step::ReadTxn => "read_txn",
            Step::ReadIds => "read_ids",
            Step::WriteFiles => "write_files",
            Step::Commit => "commit",
        })
    }
}

/// Why one row cannot be written. Never quotes the value (it may be personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReject {
    /// Kafka topic of the record.
    pub topic: String,
    /// Kafka partition of the record.
    pub partition: i32,
    /// Kafka offset of the record.
    pub offset: i64,
    /// Machine-readable reason, e.g. `missing:event_time`, `type:amount_cents`, `time:settled_at`.
    pub reason: String,
}

/// Errors of [`crate::DeltaWriter`].
#[derive(Debug, thiserror::Error)]
pub enum DeltaSinkError {
    /// The configuration cannot work (permanent).
    #[error("invalid Delta sink config: {}", problems.join("; "))]
    Config {
        /// Every problem found.
        problems: Vec<String>,
    },
    /// The existing table's schema or partitioning is not this crate's (permanent).
    #[error("Delta table {table_uri} has an incompatible schema: {}", problems.join("; "))]
    SchemaMismatch {
        /// Table location.
        table_uri: String,
        /// Every difference found.
        problems: Vec<String>,
    },
    /// Some rows are not canonical events; nothing was written (permanent for those rows: send
    /// them to the dead-letter topic, then retry the batch without them).
    #[error("{} row(s) cannot be written to {table_uri} (first: {}:{}@{} {})",
        rejects.len(),
        rejects.first().map_or("", |r| r.topic.as_str()),
        rejects.first().map_or(0, |r| r.partition),
        rejects.first().map_or(0, |r| r.offset),
        rejects.first().map_or("", |r| r.reason.as_str()))]
    InvalidRows {
        /// Table location.
        table_uri: String,
        /// One entry per rejected row.
        rejects: Vec<RowReject>,
    },
    /// Building the Arrow batch failed (a bug in this crate; permanent).
    #[error("building the Arrow batch for {table_uri} failed")]
    Arrow {
        /// Table location.
        table_uri: String,
        /// Cause.
        #[source]
        source: deltalake::arrow::error::ArrowError,
    },
    /// A Delta / object-store operation failed; see [`DeltaSinkError::is_retryable`].
    #[error("Delta {step} on {table_uri} failed")]
    Delta {
        /// Table location.
        table_uri: String,
        /// Which step.
        step: Step,
        /// Cause.
        #[source]
        source: DeltaTableError,
    },
}

impl DeltaSinkError {
    pub(crate) fn delta(table_uri: &str, step: Step) -> impl FnOnce(DeltaTableError) -> Self + '_ {
        move |source| DeltaSinkError::Delta { table_uri: table_uri.to_owned(), step, source }
    }

    /// `true` when the same call may succeed later (I/O, commit conflicts, a concurrent writer):
    /// retry with backoff. `false` for configuration, schema and data problems, which a retry
    /// cannot fix. A retried [`crate::DeltaWriter::write`] re-reads the recorded offsets, so a
    /// retry after an ambiguous failure never duplicates rows.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeltaSinkError::Config { .. }
            | DeltaSinkError::SchemaMismatch { .. }
            | DeltaSinkError::InvalidRows { .. }
            | DeltaSinkError::Arrow { .. } => false,
            DeltaSinkError::Delta { source, .. } => delta_error_is_retryable(source),
        }
    }

    /// `true` when the commit lost a race against another writer (another instance owns or owned
    /// the partition): refresh via [`crate::DeltaWriter::committed_offsets`] before retrying.
    pub fn is_commit_conflict(&self) -> bool {
        matches!(
            self,
            DeltaSinkError::Delta {
                source: DeltaTableError::VersionAlreadyExists(_)
                    | DeltaTableError::Transaction {
                        source: TransactionError::CommitConflict(_)
                            | TransactionError::MaxCommitAttempts(_)
                            | TransactionError::VersionAlreadyExists(_)
                    },
                ..
            }
        )
    }
}

fn delta_error_is_retryable(error: &DeltaTableError) -> bool {
    match error {
        DeltaTableError::ObjectStore { .. }
        | DeltaTableError::Io { .. }
        | DeltaTableError::VersionAlreadyExists(_)
        | DeltaTableError::VersionMismatch(..)
        // The kernel reports storage failures through its own error type.
        | DeltaTableError::KernelError(_)
        | DeltaTableError::Kernel { .. } => true,
        DeltaTableError::Transaction { source } => match source {
            TransactionError::CommitConflict(conflict) => !matches!(
                conflict,
                CommitConflictError::MetadataChanged
                    | CommitConflictError::ProtocolChanged(_)
                    | CommitConflictError::UnsupportedWriterVersion(_)
                    | CommitConflictError::UnsupportedReaderVersion(_)
            ),
            TransactionError::VersionAlreadyExists(_)
            | TransactionError::ObjectStore { .. }
            | TransactionError::MaxCommitAttempts(_)
            | TransactionError::LogStoreError { .. } => true,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_and_conflicts_retry_schema_and_data_do_not() {
        let io = DeltaSinkError::Delta {
            table_uri: "t".into(),
            step: Step::Commit,
            source: DeltaTableError::Io { source: std::io::Error::other("disk") },
        };
        assert!(io.is_retryable() && !io.is_commit_conflict());
        let conflict = DeltaSinkError::Delta {
            table_uri: "t".into(),
            step: Step::Commit,
            source: DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(CommitConflictError::ConcurrentTransaction),
            },
        };
        assert!(conflict.is_retryable() && conflict.is_commit_conflict());
        let schema = DeltaSinkError::SchemaMismatch { table_uri: "t".into(), problems: vec!["x".into()] };
        assert!(!schema.is_retryable());
        let delta_schema = DeltaSinkError::Delta {
            table_uri: "t".into(),
            step: Step::WriteFiles,
            source: DeltaTableError::SchemaMismatch { msg: "m".into() },
        };
        assert!(!delta_schema.is_retryable());
    }
}
