//! Config of the file source (`type: file`).

use std::path::PathBuf;
use std::time::Duration;

use pix_domain::formats::Format;
use serde::{Deserialize, Serialize};

/// `type: file` source: follows every file matching `path` (a glob), like `tail -F`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// Unique id (`[a-z0-9-]`).
    pub id: String,
    /// Glob of the files to follow, e.g. `/var/log/spi/*.log`. Rotated files that still match are
    /// followed to their end; a renamed file that no longer matches is read to its end too.
    pub path: String,
    /// Line format: `canonical` (one canonical JSON event per line), `log_line` (canonical JSON, an
    /// SPI XML message or a DICT document after an optional prefix such as a timestamp and level)
    /// or `dict_xml` (one DICT document per line); any line-oriented format of `pix_domain::formats`.
    #[serde(default = "crate::sources::default_format")]
    pub format: Format,
    /// Directory of the durable checkpoint (`<id>.checkpoint.json`): the position of each file,
    /// advanced only after Kafka acknowledged every line before it.
    pub checkpoint_dir: PathBuf,
    /// Where to start in a file seen for the first time: `beginning` or `end`.
    #[serde(default)]
    pub start_at: StartAt,
    /// Most lines per batch sent to the router.
    #[serde(default = "default_batch_lines")]
    pub batch_lines: usize,
    /// How often to look for new lines and files when idle.
    #[serde(default = "default_poll_interval", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Longest line; a longer one is dead-lettered (`payload.too_large`) and skipped.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
}

const fn default_batch_lines() -> usize {
    500
}
const fn default_poll_interval() -> Duration {
    Duration::from_millis(250)
}
const fn default_max_line_bytes() -> usize {
    1024 * 1024
}

/// Where to start in a new file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartAt {
    /// From the first byte.
    #[default]
    Beginning,
    /// From the current end (only lines written later).
    End,
}
