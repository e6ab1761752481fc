//! A sink kind this binary was built without: today only `delta` (cargo feature `delta`, on by
//! default). In a `--no-default-features` build `type: delta` still parses (only `id` is read),
//! so one config file serves every build: `check-config` and the admin API refuse the entry
//! naming the feature, and the bundled demo config leaves it out with a log line.

use serde::{Deserialize, Serialize};

use super::{CommonSinkConfig, SinkError, SinkKind, SinkResult, SinkWriter};

/// The cargo feature the kind needs.
pub const FEATURE: &str = "delta";

/// The entry of a kind that is not compiled in. Not `deny_unknown_fields`: the kind's own fields
/// are unknown to this build and are skipped.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct NotBuiltSinkConfig {
    /// The entry's id.
    pub id: String,
}

impl SinkKind for NotBuiltSinkConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn common(&self) -> CommonSinkConfig {
        CommonSinkConfig { id: self.id.clone(), topics: super::default_topics(), batch: super::default_batch() }
    }
    fn problems(&self) -> Vec<(&'static str, String)> {
        vec![(
            "type",
            format!("this binary was built without this sink kind: rebuild with the cargo feature `{FEATURE}`"),
        )]
    }
    fn writer(&self) -> SinkResult<Box<dyn SinkWriter>> {
        Err(SinkError::Permanent(format!("sink kind not built into this binary (cargo feature `{FEATURE}`)")))
    }
    fn compiled_out(&self) -> Option<&'static str> {
        Some(FEATURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_parses_and_is_refused_naming_the_feature() {
        let c: NotBuiltSinkConfig =
            serde_saphyr::from_str("{id: lake, table_uri: data/lake, pii_salt: '0123456789abcdef'}").unwrap();
        assert_eq!(c.id(), "lake");
        assert_eq!(c.compiled_out(), Some("delta"));
        let problems = c.problems();
        assert!(problems[0].1.contains("`delta`"), "{problems:?}");
        assert!(c.writer().is_err());
    }
}
