//! [`DeltaSinkConfig`]: what the writer needs to know. Plain data; [`crate::DeltaWriter`] checks it.

pub use crate::schema::TableKind;

/// Configuration of one Delta sink (one table, one application id).
#[derive(Clone)]
pub struct DeltaSinkConfig {
    /// Table location: a local path or a `file://` URL (object-store schemes need the matching
    /// deltalake feature, not enabled in this crate yet).
    pub table_uri: String,
    /// Sink id, the prefix of every txn application id (`{app_id}-{topic}-{partition}`). Keep it
    /// stable for the life of the table: a new id starts from no recorded offsets.
    pub app_id: String,
    /// Write a Delta checkpoint after every N-th commit (table version divisible by N); 0 disables
    /// checkpoints from this writer.
    pub checkpoint_interval: u64,
    /// Secret key of the PII hashes (at least [`crate::pii::MIN_SALT_LEN`] bytes). Must not change
    /// for the life of the table. Never logged: `Debug` redacts it.
    pub pii_salt: String,
    /// Exactly once by event id as well as by offset (`None`: by offset only). Events tables
    /// only: a [`TableKind::FraudReports`] table ignores it (exactly once by offset).
    pub dedupe: Option<DedupeConfig>,
    /// What the table holds: its columns, partitions and row conversion.
    pub table: TableKind,
}

/// Exactly once by event id: a copy of an event that the topic-partition already wrote, within
/// the window, adds no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeConfig {
    /// Days of `event_time` remembered (by event date, UTC): an event older than that is not
    /// de-duplicated.
    pub window_days: u32,
    /// Most ids held in memory over all partitions; past it the oldest day is forgotten early.
    pub max_ids: usize,
}

impl std::fmt::Debug for DeltaSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaSinkConfig")
            .field("table_uri", &self.table_uri)
            .field("app_id", &self.app_id)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("pii_salt", &"**redacted**")
            .field("dedupe", &self.dedupe)
            .field("table", &self.table)
            .finish()
    }
}

/// Default of [`DeltaSinkConfig::checkpoint_interval`] (the Delta protocol's usual value).
pub const fn default_checkpoint_interval() -> u64 {
    10
}

impl DeltaSinkConfig {
    /// Every problem with the values, empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.table_uri.trim().is_empty() {
            problems.push("table_uri is empty".to_owned());
        }
        if self.app_id.is_empty()
            || !self.app_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            problems.push("app_id must be non-empty and use only [A-Za-z0-9._-]".to_owned());
        }
        if self.pii_salt.len() < crate::pii::MIN_SALT_LEN {
            problems.push(format!("pii_salt must be at least {} bytes", crate::pii::MIN_SALT_LEN));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_salt_and_problems_are_all_reported() {
        let cfg = DeltaSinkConfig {
            table_uri: String::new(),
            app_id: "bad id".into(),
            checkpoint_interval: default_checkpoint_interval(),
            pii_salt: "very-secret-salt-value".into(),
            dedupe: None,
            table: TableKind::Events,
        };
        assert!(!format!("{cfg:?}").contains("very-secret"));
        assert_eq!(cfg.problems().len(), 2);
    }
}
